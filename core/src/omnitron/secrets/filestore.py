"""The built-in ``file`` secret backend: an encrypted store in the project's state directory.

``<project>/.omnitron/secrets.enc`` is a JSON envelope::

    {"format": "omnitron-secrets", "version": 1, "cipher": "AES-256-GCM",
     "kdf": "HKDF-SHA256", "project": "shop", "key_id": "…",
     "nonce": "<base64>", "ciphertext": "<base64>"}

The ciphertext is the JSON object ``{key: value}`` sealed with AES-256-GCM under
a data key derived with HKDF from the user's key (see :mod:`.keys`) and the
project name. Every field but ``nonce`` and ``ciphertext`` is the header and is
authenticated as associated data, so neither the header nor the ciphertext can
be changed unnoticed, and one project's store cannot be swapped in for
another's. Each write draws a fresh 96-bit nonce. ``key_id`` is a fingerprint
of the user's key, so a wrong key is told apart from a damaged store. A reader
refuses a ``version`` it does not know, which lets the format evolve.

Writes hold ``secrets.lock`` (``flock``) for the read-modify-write and replace
the file atomically, so a crash leaves the previous store readable.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Callable
from pathlib import Path

TYPE_CHECKING = False  # the typing module costs import time on the fast paths that read secrets
if TYPE_CHECKING:
    from typing import Any

from ..errors import SecretError
from . import keys
from ._files import atomic_write, locked, remove_stale_temps
from .base import SecretBackend, SecretContext
from .keys import UserKey

STORE_FILE = "secrets.enc"
LOCK_FILE = "secrets.lock"
FORMAT = "omnitron-secrets"
VERSION = 1
_HEADER = ("format", "version", "cipher", "kdf", "project", "key_id")


def _data_key(key: UserKey, project: str) -> bytes:
    # cryptography is imported when a secret is read or written, not when the store module is
    from cryptography.hazmat.primitives.hashes import SHA256
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(SHA256(), 32, salt=None, info=b"omnitron secret store v1\0" + project.encode()).derive(key.key)


def _aad(header: dict[str, Any]) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode()


def seal(data: dict[str, str], key: UserKey, project: str) -> bytes:
    """Encrypt ``data`` into an envelope (bytes of the store file)."""
    header = {"format": FORMAT, "version": VERSION, "cipher": "AES-256-GCM", "kdf": "HKDF-SHA256", "project": project, "key_id": key.key_id}
    nonce = os.urandom(12)
    plaintext = json.dumps(data, sort_keys=True).encode()
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    ciphertext = AESGCM(_data_key(key, project)).encrypt(nonce, plaintext, _aad(header))
    envelope = {**header, "nonce": base64.b64encode(nonce).decode(), "ciphertext": base64.b64encode(ciphertext).decode()}
    return (json.dumps(envelope, indent=1) + "\n").encode()


def read_envelope(path: Path) -> dict[str, Any] | None:
    """The parsed envelope of ``path`` (``None`` when there is no store yet), checked for shape and version."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        env = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        env = None
    if not isinstance(env, dict) or env.get("format") != FORMAT:
        raise SecretError(f"{path} is not an omnitron secret store (damaged?)")
    if env.get("version") != VERSION:
        raise SecretError(f"{path}: store format version {env.get('version')!r} is not supported (this omnitron reads version {VERSION}); upgrade omnitron")
    if not all(isinstance(env.get(k), str) for k in (*_HEADER[2:], "nonce", "ciphertext")):
        raise SecretError(f"{path} is not an omnitron secret store (damaged?)")
    return env


def unseal(env: dict[str, Any], key: UserKey, path: Path, project: str) -> dict[str, str]:
    """Decrypt an envelope read from ``path``; the store must belong to ``project``."""
    if env["project"] != project:
        raise SecretError(f"cannot decrypt {path}: the store belongs to project {env['project']!r}, not {project!r} (stores are bound to their project)")
    if env["key_id"] != key.key_id:
        raise SecretError(f"cannot decrypt {path}: wrong key ({keys.key_description()}); the store was written with key {env['key_id']}, the key from {key.source} is {key.key_id}")
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        nonce = base64.b64decode(env["nonce"], validate=True)
        ciphertext = base64.b64decode(env["ciphertext"], validate=True)
        plaintext = AESGCM(_data_key(key, project)).decrypt(nonce, ciphertext, _aad({k: env[k] for k in _HEADER}))
    except (binascii.Error, ValueError, InvalidTag):
        raise SecretError(f"cannot decrypt {path}: the store is damaged or was tampered with (authentication failed); restore it from a backup or remove it and set the secrets again") from None
    data = json.loads(plaintext)
    assert isinstance(data, dict)
    return data


class Rotation:
    """What ``rotate-key`` did: the ``key_source`` it started from, the ``stores`` now encrypted with the new key, and
    the known stores ``skipped`` (written with some other key, left as they were). A plain class, not a dataclass:
    this module is on the fast paths that read secrets, which do not import :mod:`dataclasses`."""

    __slots__ = ("key_source", "stores", "skipped")

    def __init__(self, key_source: str, stores: list[Path] | None = None, skipped: list[Path] | None = None) -> None:
        self.key_source = key_source
        self.stores: list[Path] = list(stores or [])
        self.skipped: list[Path] = list(skipped or [])


class EncryptedFileBackend(SecretBackend):
    """Secrets in ``<project>/.omnitron/secrets.enc``, AES-256-GCM, the key outside the project."""

    name = "file"
    light = True

    def __init__(self, ctx: SecretContext) -> None:
        super().__init__(ctx)
        self.path = ctx.state_dir / STORE_FILE
        self.lock_path = ctx.state_dir / LOCK_FILE

    def watched_files(self) -> list[Path]:
        return [self.path]

    # -- SecretBackend ----------------------------------------------------

    def get(self, key: str) -> str | None:
        return self._read().get(key)

    def set(self, key: str, value: str) -> None:
        with self._locked():
            data = self._read()
            data[key] = value
            self._write(data)

    def delete(self, key: str) -> bool:
        with self._locked():
            data = self._read()
            if key not in data:
                return False
            del data[key]
            self._write(data)
            return True

    def list(self) -> list[str]:
        return sorted(self._read())

    # -- key rotation -----------------------------------------------------

    def rotate_key(self, show_new_key: Callable[[str], None]) -> Rotation:
        """Re-encrypt under a new key.

        With the key file: a new key is made, every store known to use the key
        file is re-encrypted, then the key file is replaced. With
        ``OMNITRON_SECRET_KEY``: this project's store is re-encrypted under a new
        key, which ``show_new_key`` receives (to print it) after the new store is
        durable and before it replaces the old one: if anything fails first, the
        old key still opens the old store.
        """
        current = keys.load_key()
        if current is not None and current.from_env:
            new = UserKey(os.urandom(keys.KEY_BYTES), keys.KEY_ENV)

            def announce() -> None:
                show_new_key(keys.encode_key(new.key))

            with self._locked():
                data = self._read()
                if not self.path.exists():
                    announce()
                    return Rotation(keys.KEY_ENV)
                self._write(data, key=new, before_replace=announce)
            return Rotation(keys.KEY_ENV, stores=[self.path])
        with locked(keys.config_dir() / "rotate.lock"):
            current = keys.load_key()
            if current is None:
                raise SecretError(f"no key at {keys.key_file_path()} yet: nothing to rotate")
            new = keys.pending_key(create=True)
            assert new is not None
            rotation = Rotation(current.source)
            for store in dict.fromkeys([*keys.registered_stores(), self.path.resolve()]):
                if not store.exists():
                    continue
                with locked(store.with_name(LOCK_FILE)):
                    env = read_envelope(store)
                    if env is None:
                        continue
                    if env["key_id"] not in (current.key_id, new.key_id):
                        rotation.skipped.append(store)
                        continue
                    if env["key_id"] == current.key_id:
                        data = unseal(env, current, store, env["project"])
                        atomic_write(store, seal(data, new, env["project"]))
                    rotation.stores.append(store)
            keys.commit_pending_key()
            keys.set_registered_stores([*rotation.stores, *rotation.skipped])
        return rotation

    # -- internals --------------------------------------------------------

    def _locked(self):
        from ..state.directory import make_state_dir

        make_state_dir(self.ctx.state_dir)
        return locked(self.lock_path)

    def _read(self) -> dict[str, str]:
        env = read_envelope(self.path)
        if env is None:
            return {}
        current = keys.load_key()
        if current is None:
            raise SecretError(f"cannot decrypt {self.path}: no key ({keys.key_description()} is missing); restore the key file or set {keys.KEY_ENV}")
        pending = keys.pending_key()
        key = pending if pending is not None and env["key_id"] == pending.key_id else current
        return unseal(env, key, self.path, self.ctx.project)

    def _write(self, data: dict[str, str], *, key: UserKey | None = None, before_replace: Callable[[], None] | None = None) -> None:
        key = key or keys.write_key()
        remove_stale_temps(self.path)
        atomic_write(self.path, seal(data, key, self.ctx.project), before_replace=before_replace)
        if not key.from_env:
            keys.register_store(self.path)
