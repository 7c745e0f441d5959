"""The encrypted file store: real AES-256-GCM, real files, real crashes."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from omnitron.errors import SecretError
from omnitron.secrets import keys
from omnitron.secrets.base import SecretContext
from omnitron.secrets.filestore import EncryptedFileBackend


@pytest.fixture(autouse=True)
def user_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    cfg = tmp_path_factory.mktemp("user") / "omnitron"
    monkeypatch.setenv("OMNITRON_CONFIG_DIR", str(cfg))
    monkeypatch.delenv("OMNITRON_SECRET_KEY", raising=False)
    return cfg


def backend(root: Path, project: str = "shop") -> EncryptedFileBackend:
    return EncryptedFileBackend(SecretContext(project=project, project_dir=root, state_dir=root / ".omnitron"))


@pytest.fixture
def store(tmp_path: Path) -> EncryptedFileBackend:
    return backend(tmp_path / "shop")


def envelope(b: EncryptedFileBackend) -> dict:
    return json.loads(b.path.read_text())


def test_round_trip_across_instances(store: EncryptedFileBackend, tmp_path: Path) -> None:
    store.set("api", "s3cr3t-value")
    store.set("other", "ünïcode ✓")
    again = backend(tmp_path / "shop")
    assert again.get("api") == "s3cr3t-value"
    assert again.get("other") == "ünïcode ✓"
    assert again.get("missing") is None
    assert again.list() == ["api", "other"]
    assert again.delete("api") is True
    assert again.delete("api") is False
    assert backend(tmp_path / "shop").list() == ["other"]
    raw = store.path.read_bytes()
    assert b"s3cr3t" not in raw and "ünïcode".encode() not in raw
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_envelope_is_versioned_and_each_write_draws_a_fresh_nonce(store: EncryptedFileBackend) -> None:
    store.set("a", "1")
    first = envelope(store)
    store.set("a", "1")
    second = envelope(store)
    assert first["format"] == "omnitron-secrets" and first["version"] == 1 and first["cipher"] == "AES-256-GCM"
    assert first["project"] == "shop"
    assert first["nonce"] != second["nonce"]
    assert first["ciphertext"] != second["ciphertext"]


def test_key_file_created_0600_outside_the_project(store: EncryptedFileBackend, user_config: Path, tmp_path: Path) -> None:
    assert store.get("x") is None
    assert not (user_config / "secret.key").exists(), "reading an empty store must not create a key"
    store.set("x", "y")
    key_file = user_config / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(user_config.stat().st_mode) == 0o700
    assert len(base64.b64decode(key_file.read_text())) == 32
    assert not any(p.name.endswith(".key") for p in (tmp_path / "shop").rglob("*"))


def test_world_readable_key_file_is_refused(store: EncryptedFileBackend, user_config: Path) -> None:
    store.set("x", "y")
    key_file = user_config / "secret.key"
    key_file.chmod(0o644)
    with pytest.raises(SecretError, match=f"readable by group or others .*chmod 600 {key_file}$"):
        store.get("x")
    with pytest.raises(SecretError, match="chmod 600"):
        store.set("x", "z")
    key_file.chmod(0o600)
    assert store.get("x") == "y"


def test_key_from_env_in_hex_or_base64(store: EncryptedFileBackend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, user_config: Path) -> None:
    raw = os.urandom(32)
    monkeypatch.setenv("OMNITRON_SECRET_KEY", raw.hex())
    store.set("x", "y")
    assert not (user_config / "secret.key").exists()
    for text in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode().rstrip("="), raw.hex().upper()):
        monkeypatch.setenv("OMNITRON_SECRET_KEY", text)
        assert backend(tmp_path / "shop").get("x") == "y"
    monkeypatch.setenv("OMNITRON_SECRET_KEY", "too-short")
    with pytest.raises(SecretError, match="OMNITRON_SECRET_KEY: not a 32-byte key"):
        store.get("x")


def test_wrong_key_is_a_clear_error(store: EncryptedFileBackend, monkeypatch: pytest.MonkeyPatch, user_config: Path) -> None:
    store.set("x", "y")
    (user_config / "secret.key").write_text(base64.b64encode(os.urandom(32)).decode())
    expected = f"cannot decrypt {store.path}: wrong key (OMNITRON_SECRET_KEY or {user_config / 'secret.key'})"
    with pytest.raises(SecretError) as exc:
        store.get("x")
    assert str(exc.value).startswith(expected)
    monkeypatch.setenv("OMNITRON_SECRET_KEY", os.urandom(32).hex())
    with pytest.raises(SecretError, match="wrong key"):
        store.list()
    with pytest.raises(SecretError, match="wrong key"):
        store.set("x", "overwrite")


def test_missing_key_with_existing_store(store: EncryptedFileBackend, user_config: Path) -> None:
    store.set("x", "y")
    (user_config / "secret.key").unlink()
    with pytest.raises(SecretError, match="no key"):
        store.get("x")


def test_tampered_ciphertext_is_detected(store: EncryptedFileBackend) -> None:
    store.set("x", "y")
    env = envelope(store)
    ct = bytearray(base64.b64decode(env["ciphertext"]))
    ct[0] ^= 0x01
    env["ciphertext"] = base64.b64encode(bytes(ct)).decode()
    store.path.write_text(json.dumps(env))
    with pytest.raises(SecretError, match="damaged or was tampered with"):
        store.get("x")


def test_tampered_header_is_detected(store: EncryptedFileBackend) -> None:
    store.set("x", "y")
    env = envelope(store)
    env["kdf"] = "HKDF-SHA512"
    store.path.write_text(json.dumps(env))
    with pytest.raises(SecretError, match="tampered"):
        store.get("x")


def test_store_of_another_project_cannot_be_swapped_in(tmp_path: Path) -> None:
    shop, blog = backend(tmp_path / "shop", "shop"), backend(tmp_path / "blog", "blog")
    shop.set("db", "shop-password")
    blog.set("db", "blog-password")
    blog.path.write_bytes(shop.path.read_bytes())
    with pytest.raises(SecretError, match="belongs to project 'shop', not 'blog'"):
        blog.get("db")
    # relabelling the header does not help: the project is bound into the key and the AAD
    env = json.loads(blog.path.read_text())
    env["project"] = "blog"
    blog.path.write_text(json.dumps(env))
    with pytest.raises(SecretError, match="tampered"):
        blog.get("db")


def test_unknown_format_version_is_refused(store: EncryptedFileBackend) -> None:
    store.set("x", "y")
    env = envelope(store)
    env["version"] = 2
    store.path.write_text(json.dumps(env))
    with pytest.raises(SecretError, match="format version 2 is not supported"):
        store.get("x")
    store.path.write_text("not json")
    with pytest.raises(SecretError, match="not an omnitron secret store"):
        store.get("x")


def test_failed_rename_leaves_the_old_store(store: EncryptedFileBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    store.set("x", "old")
    before = store.path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk went away")

    with monkeypatch.context() as m, pytest.raises(OSError, match="disk went away"):
        m.setattr(os, "replace", broken_replace)
        store.set("x", "new")
    assert store.path.read_bytes() == before
    assert store.get("x") == "old"
    assert [p.name for p in store.path.parent.iterdir() if p.name.endswith(".tmp")] == []


CRASHING_WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from omnitron.secrets.base import SecretContext
    from omnitron.secrets.filestore import EncryptedFileBackend

    root = Path(sys.argv[1])
    store = EncryptedFileBackend(SecretContext(project="shop", project_dir=root, state_dir=root / ".omnitron"))
    os.replace = lambda src, dst: os.kill(os.getpid(), signal.SIGKILL)  # die between write and rename
    store.set("x", "NEW-VALUE-NEVER-COMMITTED")
    """
)


def test_process_killed_mid_write_leaves_the_old_store(store: EncryptedFileBackend, tmp_path: Path) -> None:
    store.set("x", "old")
    proc = subprocess.run([sys.executable, "-c", CRASHING_WRITER, str(tmp_path / "shop")], capture_output=True, env=os.environ.copy())
    assert proc.returncode == -9, proc.stderr.decode()
    leftovers = [p for p in store.path.parent.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) == 1, "the killed writer had written its temporary file"
    assert b"NEW-VALUE" not in leftovers[0].read_bytes()
    assert store.get("x") == "old"
    store.set("y", "next")
    assert [p for p in store.path.parent.iterdir() if p.name.endswith(".tmp")] == []
    assert store.get("x") == "old" and store.get("y") == "next"


CONCURRENT_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from omnitron.secrets.base import SecretContext
    from omnitron.secrets.filestore import EncryptedFileBackend

    root, who = Path(sys.argv[1]), sys.argv[2]
    store = EncryptedFileBackend(SecretContext(project="shop", project_dir=root, state_dir=root / ".omnitron"))
    (root / f"ready-{who}").touch()
    while not (root / "go").exists():
        time.sleep(0.001)
    for i in range(100):
        store.set(f"{who}-{i}", str(i))
    """
)


def test_concurrent_writers_lose_nothing(store: EncryptedFileBackend, tmp_path: Path) -> None:
    store.set("seed", "0")  # the key file exists before the writers start
    root = tmp_path / "shop"
    procs = [subprocess.Popen([sys.executable, "-c", CONCURRENT_WRITER, str(root), who], env=os.environ.copy()) for who in ("a", "b")]
    while not all((root / f"ready-{who}").exists() for who in ("a", "b")):
        assert all(p.poll() is None for p in procs), "a writer died before starting"
        time.sleep(0.005)
    (root / "go").touch()
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    assert len(store.list()) == 201


def test_rotate_key_file_re_encrypts_every_store(tmp_path: Path, user_config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shop, blog = backend(tmp_path / "shop", "shop"), backend(tmp_path / "blog", "blog")
    shop.set("db", "shop-pw")
    blog.set("db", "blog-pw")
    old_key = (user_config / "secret.key").read_text()
    announced: list[str] = []
    rotation = shop.rotate_key(announced.append)
    assert announced == []
    assert sorted(rotation.stores) == sorted([shop.path.resolve(), blog.path.resolve()])
    new_key = (user_config / "secret.key").read_text()
    assert new_key != old_key
    assert stat.S_IMODE((user_config / "secret.key").stat().st_mode) == 0o600
    assert not (user_config / "secret.key.new").exists()
    assert shop.get("db") == "shop-pw" and blog.get("db") == "blog-pw"
    monkeypatch.setenv("OMNITRON_SECRET_KEY", old_key.strip())
    with pytest.raises(SecretError, match="wrong key"):
        blog.get("db")


def test_interrupted_rotation_keeps_stores_readable_and_resumes(store: EncryptedFileBackend, user_config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store.set("db", "pw")

    def crash() -> None:
        raise OSError("killed before the key file was replaced")

    with monkeypatch.context() as m, pytest.raises(OSError, match="killed"):
        m.setattr(keys, "commit_pending_key", crash)
        store.rotate_key(print)
    pending = (user_config / "secret.key.new").read_text()
    assert store.get("db") == "pw"  # re-encrypted under the pending key, still readable
    store.set("more", "x")  # writes during the pause use the pending key
    store.rotate_key(print)
    assert (user_config / "secret.key").read_text() == pending
    assert not (user_config / "secret.key.new").exists()
    assert store.get("db") == "pw" and store.get("more") == "x"


def test_rotate_env_key_announces_the_new_key_before_replacing(store: EncryptedFileBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    old = os.urandom(32).hex()
    monkeypatch.setenv("OMNITRON_SECRET_KEY", old)
    store.set("db", "pw")
    before = store.path.read_bytes()

    def refuse(new_key: str) -> None:
        assert store.path.read_bytes() == before, "announced before the store is replaced"
        raise BrokenPipeError

    with pytest.raises(BrokenPipeError):
        store.rotate_key(refuse)
    assert store.path.read_bytes() == before and store.get("db") == "pw"
    shown: list[str] = []
    store.rotate_key(shown.append)
    assert len(shown) == 1
    with pytest.raises(SecretError, match="wrong key"):
        store.get("db")
    monkeypatch.setenv("OMNITRON_SECRET_KEY", shown[0])
    assert store.get("db") == "pw"
