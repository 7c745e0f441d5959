"""A container started again from the recipe of the last cold ``up``, before planning (standard library only).

:meth:`~.creation.CreationMixin.head_start` writes the recipe: the container's
name, image (and its ID then), network, volumes, create body and stdin, as
the provider made them; :func:`run` does the same again, on the same local
engine, only while everything is as it was:

- the image of that name is still the same image;
- nothing listens on the container's host ports (the core checks those of every service first, from the
  recipe's ``ports``);
- the network is there (or is created) with the stack's labels;
- each volume is there with the service's labels, or is created (a service
  whose new volume would be seeded from a data template gets no recipe);
- the container name is free;
- the create body's env, command and stdin digest to its runtime-hash label,
  which was taken from the real values when the recipe was made: the secrets
  put back from the store are the ones the plan renders.

Then it creates and starts the container (its stdin fed and closed), and returns
the record the provider keeps of a start it completed. Anything that does not
hold: ``None``, and the full path does it all and says what is wrong. A
container it created but could not start is removed again.
"""

from __future__ import annotations

import threading
from pathlib import Path
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from . import engine_reads
from .naming import LABEL_RUNTIME_HASH, runtime_digest

_network_lock = threading.Lock()
"""The services of a stack start in threads of one process: one of them looks for (and makes) the network at a time
(the engine does not refuse a second network of the same name)."""


def run(recipe: dict[str, Any], reveal: Callable[[Any], Any], created: Callable[[], None]) -> dict[str, Any] | None:
    """Create and start the recipe's container; its provider record (``container``, ``prepared``, ``startedAt``), or ``None``.

    ``reveal(part)`` puts the secrets back into a part of the recipe (asked only once the network is there);
    ``created()`` is called once the network, the volumes and the container exist, before the start: the full path
    may go on with the other services then (the caller calls it too when this returns).
    """
    sock = Path(recipe["socket"])
    if engine_reads.local_socket() != sock:
        return None
    made: list[str] = []
    try:
        image = engine_reads.request(sock, "GET", f"/images/{quote(recipe['image']['name'], safe='')}/json")
        if image.get("Id") != recipe["image"]["id"] or not _network(sock, recipe["network"]):
            return None
        for wanted in recipe["volumes"]:
            how = _volume(sock, wanted)
            if how is None:
                _remove_volumes(sock, made)
                return None
            if how == "created":
                made.append(wanted["Name"])
    except engine_reads.EngineReadError:
        _remove_volumes(sock, made)
        return None
    body, stdin = reveal(recipe["body"]), reveal(recipe.get("stdin"))
    data = stdin.encode() if stdin is not None else None
    env = dict(item.split("=", 1) for item in body.get("Env") or [])
    if runtime_digest(env, body.get("Cmd"), data) != (body.get("Labels") or {}).get(LABEL_RUNTIME_HASH):
        _remove_volumes(sock, made)
        return None
    try:
        made_container = engine_reads.request(sock, "POST", "/containers/create", params={"name": recipe["name"]}, body=body)
    except engine_reads.EngineReadError:  # the name is taken: the full path looks at what holds it
        _remove_volumes(sock, made)
        return None
    container = str(made_container["Id"])
    created()
    try:
        if data is None:
            engine_reads.request(sock, "POST", f"/containers/{container}/start")
        else:
            attached = engine_reads.attach_stdin(sock, container)
            try:
                engine_reads.request(sock, "POST", f"/containers/{container}/start")
            except BaseException:
                attached.close()
                raise
            engine_reads.feed(attached, data)
        state = (engine_reads.inspect_container(sock, container) or {}).get("State") or {}
    except engine_reads.EngineReadError:
        _remove(sock, container)
        _remove_volumes(sock, made)
        return None
    return {"container": container, "prepared": True, "startedAt": state.get("StartedAt")}


def _network(sock: Path, wanted: dict[str, Any]) -> bool:
    """The stack's network is there with its labels (created when missing)."""
    with _network_lock:
        return _ensure_network(sock, wanted)


def _ensure_network(sock: Path, wanted: dict[str, Any]) -> bool:
    name = wanted["Name"]
    found = [n for n in engine_reads.request(sock, "GET", "/networks", params={"filters": {"name": [name]}}) if n.get("Name") == name]
    if found:
        return len(found) == 1 and _labelled(found[0], wanted["Labels"])
    try:
        engine_reads.request(sock, "POST", "/networks/create", body=wanted)
    except engine_reads.EngineReadError:
        return False
    return True


def _volume(sock: Path, wanted: dict[str, Any]) -> str | None:
    """``"there"`` (with the service's labels), ``"created"`` now, or ``None`` (someone else's)."""
    try:
        info = engine_reads.request(sock, "GET", f"/volumes/{quote(wanted['Name'], safe='')}")
    except engine_reads.EngineReadError as exc:
        if exc.status != 404:
            raise
        engine_reads.request(sock, "POST", "/volumes/create", body=wanted)
        return "created"
    return "there" if _labelled(info, wanted["Labels"]) else None


def _labelled(obj: dict[str, Any], labels: dict[str, str]) -> bool:
    have = obj.get("Labels") or {}
    return all(have.get(k) == v for k, v in labels.items())


def _remove(sock: Path, container: str) -> None:
    try:
        engine_reads.request(sock, "DELETE", f"/containers/{container}", params={"force": True, "v": True})
    except engine_reads.EngineReadError:
        pass


def _remove_volumes(sock: Path, names: list[str]) -> None:
    """Remove the volumes this run created a moment ago (nothing is in them)."""
    for name in names:
        try:
            engine_reads.request(sock, "DELETE", f"/volumes/{quote(name, safe='')}")
        except engine_reads.EngineReadError:
            pass
