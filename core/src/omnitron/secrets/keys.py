"""The user's secret key: where it comes from and how it is kept.

The key is 32 random bytes and never lives in a project directory. It comes from

1. ``OMNITRON_SECRET_KEY``: the key as 64 hex digits or as base64 (standard or
   URL-safe alphabet, padding optional), e.g. the output of ``openssl rand -base64 32``;
2. otherwise the key file ``secret.key`` in the user's config directory:
   ``$OMNITRON_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/omnitron``, else
   ``~/.config/omnitron``. It holds the key in base64 and is created with mode
   0600 on the first write; a key file readable by group or others is refused.

During ``omnitron secret rotate-key`` the new key waits in ``secret.key.new``
until every store is re-encrypted; readers accept either key meanwhile, and a
rotation that was interrupted resumes with the same new key. The config
directory also lists the stores encrypted with the key file (``stores``, paths
only) so a rotation can re-encrypt all of them.
"""

from __future__ import annotations

import base64
import binascii
import os
import string
import tempfile
from collections import namedtuple
from pathlib import Path

from ..errors import SecretError
from ._files import atomic_write, fsync_dir

KEY_ENV = "OMNITRON_SECRET_KEY"
CONFIG_DIR_ENV = "OMNITRON_CONFIG_DIR"
KEY_FILE = "secret.key"
PENDING_KEY_FILE = "secret.key.new"
STORES_FILE = "stores"
KEY_BYTES = 32


def config_dir() -> Path:
    """The user's omnitron config directory (holds the key file)."""
    explicit = os.environ.get(CONFIG_DIR_ENV)
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CONFIG_HOME")
    return (Path(xdg) if xdg else Path.home() / ".config") / "omnitron"


def key_file_path() -> Path:
    return config_dir() / KEY_FILE


def key_description() -> str:
    """Where the key may come from, for error messages."""
    return f"{KEY_ENV} or {key_file_path()}"


class UserKey(namedtuple("UserKey", "key source")):
    """A key (bytes) and where it came from (``source``: ``OMNITRON_SECRET_KEY`` or the key file's path), immutable.

    A named tuple, not a dataclass: this module is on the fast paths that read secrets, which do not import
    :mod:`dataclasses`. Its repr names the source only, never the key.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"UserKey(source={self.source!r})"

    @property
    def key_id(self) -> str:
        """A public fingerprint of the key (stored in envelopes to tell a wrong key from tampering)."""
        from cryptography.hazmat.primitives.hashes import SHA256
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        return HKDF(SHA256(), 8, salt=None, info=b"omnitron secret key id").derive(self.key).hex()

    @property
    def from_env(self) -> bool:
        return self.source == KEY_ENV


def parse_key(text: str, source: str) -> bytes:
    """Decode a key written as 64 hex digits or base64; a one-line :class:`SecretError` otherwise."""
    text = text.strip()
    if len(text) == 2 * KEY_BYTES and all(c in string.hexdigits for c in text):
        return bytes.fromhex(text)
    b64 = text.replace("-", "+").replace("_", "/")
    b64 += "=" * (-len(b64) % 4)
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != KEY_BYTES:
        raise SecretError(f"{source}: not a {KEY_BYTES}-byte key (expected 64 hex digits or base64); create one with: openssl rand -base64 32")
    return raw


def encode_key(key: bytes) -> str:
    """The text form of a key: base64, as written to key files and printed by ``rotate-key``."""
    return base64.b64encode(key).decode()


def _read_key_file(path: Path) -> UserKey:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise SecretError(f"{path} is readable by group or others (mode {mode:o}); fix it with: chmod 600 {path}")
    return UserKey(parse_key(path.read_text(), str(path)), str(path))


def _create_key_file(path: Path, key: bytes) -> None:
    """Write a new key file (0600); if another process made one first, theirs wins."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    data = (encode_key(key) + "\n").encode()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)
    fsync_dir(path.parent)


def load_key(*, create: bool = False) -> UserKey | None:
    """The current key: ``OMNITRON_SECRET_KEY``, else the key file (made on demand when ``create``)."""
    env = os.environ.get(KEY_ENV)
    if env:
        return UserKey(parse_key(env, KEY_ENV), KEY_ENV)
    path = key_file_path()
    if not path.exists():
        if not create:
            return None
        _create_key_file(path, os.urandom(KEY_BYTES))
    return _read_key_file(path)


def pending_key(*, create: bool = False) -> UserKey | None:
    """The new key of an unfinished key-file rotation (never with ``OMNITRON_SECRET_KEY``)."""
    if os.environ.get(KEY_ENV):
        return None
    path = config_dir() / PENDING_KEY_FILE
    if not path.exists():
        if not create:
            return None
        _create_key_file(path, os.urandom(KEY_BYTES))
    return _read_key_file(path)


def commit_pending_key() -> None:
    """Finish a rotation: the pending key file replaces the key file."""
    os.replace(config_dir() / PENDING_KEY_FILE, key_file_path())
    fsync_dir(config_dir())


def write_key() -> UserKey:
    """The key new writes use: the pending one during a rotation, else the current one (created if needed)."""
    key = pending_key() or load_key(create=True)
    assert key is not None
    return key


def register_store(store: Path) -> None:
    """Remember that ``store`` is encrypted with the key file, for ``rotate-key``."""
    store = store.resolve()
    if store in registered_stores():
        return
    config_dir().mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(config_dir() / STORES_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, f"{store}\n".encode())
    finally:
        os.close(fd)


def registered_stores() -> list[Path]:
    try:
        lines = (config_dir() / STORES_FILE).read_text().splitlines()
    except FileNotFoundError:
        return []
    return list(dict.fromkeys(Path(line) for line in lines if line.strip()))


def set_registered_stores(stores: list[Path]) -> None:
    config_dir().mkdir(mode=0o700, parents=True, exist_ok=True)
    atomic_write(config_dir() / STORES_FILE, "".join(f"{s}\n" for s in stores).encode())
