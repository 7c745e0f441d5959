"""``omnitron secret set|get|list|rm|rotate-key``: the project's secret store.

The backend is the project's ``secrets.backend`` (the encrypted ``file`` store
unless the config names another). Values are read from stdin or a hidden prompt
so they stay out of shell history.
"""

from __future__ import annotations

import re
import sys

from ..errors import ConfigError, SecretError
from .options import JsonOpt, ProjectOpt, load_project, print_json

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@/-]{0,199}$")


def _backend(project):
    """The project's secret backend; with the rest of the config in error, found from its name and ``secrets`` alone
    (setting the secret a config error asks for must not need that error fixed first)."""
    from ..secrets.resolve import backend_for

    found = load_project(project)
    try:
        return backend_for(found)
    except ConfigError:  # an error in the name or the secrets settings themselves is raised from here
        from ..loader import load_project_identity

        return backend_for(found, load_project_identity(found.config_file))


def _read_value(name: str) -> str:
    if not sys.stdin.isatty():
        value = sys.stdin.read()
        value = value[:-2] if value.endswith("\r\n") else value.removesuffix("\n")
    else:
        import getpass

        value = getpass.getpass(f"value of {name}: ")
    if not value:
        raise SecretError(f"empty value for {name!r}: nothing stored")
    return value


def set_cmd(name: str, value: str | None = None, /, *, project: ProjectOpt = None, json: JsonOpt = False) -> int:
    """Store secret NAME. Without VALUE it is read from stdin (when piped) or a hidden prompt.

    :param name: Key in the store, e.g. search_api_key.
    :param value: The value; prefer stdin or the prompt, which keep it out of shell history.
    """
    if not _NAME.match(name):
        raise SecretError(f"invalid secret name {name!r}: use letters, digits and _ . @ / - (at most 200)")
    backend = _backend(project)
    if not backend.writable:
        raise SecretError(f"the {backend.name!r} secret backend is read-only: {backend.missing_hint(name)}")
    if value is None:
        value = _read_value(name)
    existed = backend.get(name) is not None
    backend.set(name, value)
    if json:
        print_json({"name": name, "backend": backend.name, "created": not existed})
    else:
        print(f"{'updated' if existed else 'set'} secret {name} ({backend.name} backend)")
    return 0


def option_like_value_hint(args: list[str], option: str) -> str:
    """What ``secret set`` says of ``option``, an option it does not have among ``args`` (those after ``set``): most
    likely a value that begins with ``-``, such as a generated password."""
    name = next((a for a in args if not a.startswith("-")), "NAME")
    return f"secret set has no option {option}; a value that begins with '-' goes on stdin (which keeps it out of shell history: ... | omnitron secret set {name}) or after --: omnitron secret set {name} -- VALUE"


def get_cmd(name: str, /, *, project: ProjectOpt = None, json: JsonOpt = False) -> int:
    """Print the value of secret NAME.

    :param name: Key in the store.
    """
    backend = _backend(project)
    value = backend.get(name)
    if value is None:
        raise SecretError(f"secret {name!r} is not set: {backend.missing_hint(name)}")
    if json:
        print_json({"name": name, "value": value})
    else:
        sys.stdout.write(value + "\n")
    return 0


def list_cmd(*, project: ProjectOpt = None, json: JsonOpt = False) -> int:
    """List the names of the stored secrets (never their values)."""
    backend = _backend(project)
    names = backend.list()
    if json:
        print_json({"backend": backend.name, "names": names})
    else:
        for name in names:
            print(name)
    return 0


def rm_cmd(name: str, /, *, project: ProjectOpt = None, json: JsonOpt = False) -> int:
    """Remove secret NAME.

    :param name: Key in the store.
    """
    backend = _backend(project)
    if not backend.delete(name):
        raise SecretError(f"secret {name!r} is not set")
    if json:
        print_json({"name": name, "removed": True})
    else:
        print(f"removed secret {name}")
    return 0


def rotate_key_cmd(*, project: ProjectOpt = None, json: JsonOpt = False) -> int:
    """Re-encrypt the secret store under a new key.

    With the key file (~/.config/omnitron/secret.key), every store that uses it
    is re-encrypted and the key file is replaced. With OMNITRON_SECRET_KEY, this
    project's store is re-encrypted and the new key is printed once: put it in
    OMNITRON_SECRET_KEY wherever this project runs.
    """
    from ..secrets.filestore import EncryptedFileBackend

    backend = _backend(project)
    if not isinstance(backend, EncryptedFileBackend):
        raise SecretError(f"the {backend.name!r} secret backend has no key for omnitron to rotate")
    shown: dict[str, str] = {}

    def show(new_key: str) -> None:
        shown["key"] = new_key
        if json:
            print_json({"keySource": "OMNITRON_SECRET_KEY", "newKey": new_key, "stores": [str(backend.path)], "skipped": []})
        else:
            print(
                f"new secret key (shown once): {new_key}\n"
                f"set OMNITRON_SECRET_KEY to it wherever this project runs; the old key no longer opens {backend.path}\n"
                "other projects using the old key are unchanged"
            )
        sys.stdout.flush()

    rotation = backend.rotate_key(show)
    if shown:
        return 0
    if json:
        print_json({"keySource": rotation.key_source, "stores": [str(s) for s in rotation.stores], "skipped": [str(s) for s in rotation.skipped]})
        return 0
    print(f"new key in {rotation.key_source}; re-encrypted {len(rotation.stores)} store(s):")
    for store in rotation.stores:
        print(f"  {store}")
    for store in rotation.skipped:
        print(f"  skipped {store} (written with another key)", file=sys.stderr)
    return 0
