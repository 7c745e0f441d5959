"""Cached, initialised data templates on the local engine (blocking: call from a worker thread).

A template is an image: the service's own image, run once with random
credentials and its data directory under :data:`TEMPLATE_ROOT` (a path of the
container's layer, not a volume), stopped once initialised, and committed.
It is found again by its labels (:data:`LABEL_TEMPLATE_KEY`: a digest of the
image ID and everything that shapes the initialised data, see
:func:`template_key`). Seeding a new, empty volume pipes the archive of
:data:`TEMPLATE_ROOT` from a container of the template (created, never
started, removed) into the service's created, not yet started container at
the volume's mount path (:func:`seed`).
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import secrets
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from omnitron.api import DataTemplate

from . import engine_reads
from .engine_reads import EngineReadError, request

TEMPLATE_ROOT = "/omnitron-template"
TEMPLATE_REPOSITORY = "omnitron-template"
LABEL_TEMPLATE_KEY = "omnitron.template.key"
LABEL_TEMPLATE_SOURCE = "omnitron.template.source"
"""The ID of the image the template was made from."""
LABEL_TEMPLATE_IMAGE = "omnitron.template.image"
"""The image reference as the service declared it (templates of an older image of that name are removed)."""
LABEL_TEMPLATE_BUILD = "omnitron.template.build"
"""On the short-lived containers that build a template or seed a volume: the template key."""
SWITCH = "OMNITRON_DOCKER_TEMPLATE"
BUILD_TIMEOUT_S = 300.0
POLL_S = 0.1
STALE_BUILD_S = 600.0


def enabled(env: Mapping[str, str]) -> bool:
    """Whether seeding from templates is on (``OMNITRON_DOCKER_TEMPLATE=off`` turns it off)."""
    return env.get(SWITCH, "on").strip().lower() not in ("off", "0", "false", "no")


@dataclass(frozen=True)
class Seeding:
    """Everything needed to build or use the template of one service's data (secrets: none)."""

    template: DataTemplate
    image: str
    """As declared (``postgres:16``)."""
    image_id: str
    image_volumes: dict[str, Any]
    """The image's ``VOLUME`` paths."""
    key: str
    target: str
    """Where the data volume is mounted in the service's container."""
    data_dir: str
    """The data directory inside the template, under :data:`TEMPLATE_ROOT`."""
    create_body: dict[str, Any]
    """The service's container body (image, env, command, entrypoint); its env holds the service's credentials."""


def data_dir_in_volume(template: DataTemplate, env: Mapping[str, str], image_env: list[str], target: str) -> str | None:
    """The data directory relative to the volume's mount ``target`` (``""``: the volume itself), or ``None`` when outside it."""
    data_dir = target
    if template.data_env:
        declared = dict(item.partition("=")[::2] for item in image_env or [])
        data_dir = env.get(template.data_env) or declared.get(template.data_env) or target
    rel = posixpath.relpath(posixpath.normpath(data_dir), posixpath.normpath(target))
    if rel == ".":
        return ""
    return None if rel.startswith("..") else rel


def template_key(image_id: str, template: DataTemplate, env: Mapping[str, str], body: Mapping[str, Any], target: str, rel: str) -> str:
    """Digest of what shapes the initialised data: image ID, init-time env (not the credentials), command, entrypoint, data path."""
    shape = {
        "format": 1,
        "image": image_id,
        "env": template.key_settings(env),
        "command": body.get("Cmd"),
        "entrypoint": body.get("Entrypoint"),
        "target": target,
        "data": rel,
    }
    return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:32]


def find(sock: Path, key: str) -> str | None:
    """The newest template image with ``key``, or ``None``."""
    found = request(sock, "GET", "/images/json", params={"filters": {"label": [f"{LABEL_TEMPLATE_KEY}={key}"]}})
    found = sorted(found or [], key=lambda image: image.get("Created", 0), reverse=True)
    return found[0]["Id"] if found else None


def seed(sock: Path, template_id: str, container_id: str, target: str, key: str, image_volumes: Mapping[str, Any] | None = None) -> None:
    """Copy the template's data into the created, never-started container at ``target`` (its new, empty volume).

    The data is piped as one archive from a container of the template (created,
    never started, then removed) into ``container_id``: on a disk where each
    new file costs, that is about half the time of the engine's copy into an
    empty volume at create.

    :param image_volumes: the image's own ``VOLUME`` paths: an (unused) tmpfs stands there, so the engine
        makes no anonymous volume for them.
    """
    body = {
        "Image": template_id,
        "Labels": {LABEL_TEMPLATE_BUILD: key},
        "HostConfig": {"Tmpfs": {path: "" for path in image_volumes or {} if path != TEMPLATE_ROOT}, "NetworkMode": "none"},
    }
    source = request(sock, "POST", "/containers/create", body=body)["Id"]
    try:
        _pipe_archive(sock, source, f"{TEMPLATE_ROOT}/.", container_id, target)
    finally:
        try:
            request(sock, "DELETE", f"/containers/{source}", params={"v": True, "force": True})
        except EngineReadError as exc:
            if exc.status != 404:
                raise


def _pipe_archive(sock: Path, source: str, source_path: str, target: str, target_path: str, *, timeout: float = 300.0) -> None:
    """Stream the archive of ``source_path`` in container ``source`` into ``target_path`` of container ``target``."""
    reader = engine_reads.UnixConnection(sock, timeout)
    writer = engine_reads.UnixConnection(sock, timeout)
    try:
        reader.request("GET", f"/containers/{source}/archive?{urlencode({'path': source_path})}", headers={"Host": "docker"})
        got = reader.getresponse()
        if got.status != 200:
            raise EngineReadError(got.status, got.read().decode(errors="replace").strip() or got.reason)

        def chunks() -> Iterator[bytes]:
            while block := got.read(1 << 20):
                yield block

        url = f"/containers/{target}/archive?{urlencode({'path': target_path})}"
        writer.request("PUT", url, body=chunks(), headers={"Host": "docker", "Content-Type": "application/x-tar"}, encode_chunked=True)
        put = writer.getresponse()
        answer = put.read()
        if put.status != 200:
            raise EngineReadError(put.status, answer.decode(errors="replace").strip() or put.reason)
    except OSError as exc:
        raise EngineReadError(900, f"cannot reach the Docker engine at {sock}: {exc}") from None
    finally:
        reader.close()
        writer.close()


def run(sock: Path, container_id: str, command: list[str], *, timeout: float) -> tuple[int, str]:
    """Run ``command`` in the running container (with its env); its exit code and output (stdout + stderr)."""
    made = request(sock, "POST", f"/containers/{container_id}/exec", body={"Cmd": command, "AttachStdout": True, "AttachStderr": True})
    output = engine_reads.stream(sock, "POST", f"/exec/{made['Id']}/start", body={"Detach": False, "Tty": False}, timeout=timeout)
    info = request(sock, "GET", f"/exec/{made['Id']}/json")
    code = info.get("ExitCode")
    return (code if code is not None else -1), engine_reads.demultiplex(output)


class BuildAborted(Exception):
    pass


def build(sock: Path, seeding: Seeding, abort: threading.Event) -> str:
    """Build the template of ``seeding`` (about as long as the image's own initialisation); the new image's ID.

    :raises EngineReadError: the engine refused a step; :raises RuntimeError: the
        container stopped or did not finish initialising in time.
    """
    _remove_stale_builders(sock, seeding.key)
    name = f"{TEMPLATE_REPOSITORY}-{seeding.key[:12]}-{secrets.token_hex(3)}"
    created = request(sock, "POST", "/containers/create", params={"name": name}, body=_builder_body(seeding))
    container = created["Id"]
    try:
        request(sock, "POST", f"/containers/{container}/start")
        _wait_initialised(sock, container, seeding.template.ready_logs, abort)
        request(sock, "POST", f"/containers/{container}/stop", params={"t": 60}, timeout=120)
        code = (request(sock, "GET", f"/containers/{container}/json").get("State") or {}).get("ExitCode")
        if code != 0:
            raise RuntimeError(f"the template's server stopped with exit code {code}")
        # the random credentials are blanked in the template's config: nobody ever learns them
        config = {"Labels": _template_labels(seeding), "Env": [f"{key}=" for key in seeding.template.credential_env]}
        committed = request(sock, "POST", "/commit", params=_commit_params(seeding, container), body=config)
    finally:
        try:
            request(sock, "DELETE", f"/containers/{container}", params={"v": True, "force": True})
        except EngineReadError:
            pass
    _remove_outdated(sock, seeding, keep=committed["Id"])
    return str(committed["Id"])


def _builder_body(seeding: Seeding) -> dict[str, Any]:
    """The service's container as it would first run, with random credentials, its data in the layer, and no network."""
    source = seeding.create_body
    env = dict(item.partition("=")[::2] for item in source.get("Env") or [])
    for key in seeding.template.credential_env:
        if key in env:
            env[key] = secrets.token_urlsafe(24)
    if seeding.template.data_env:
        env[seeding.template.data_env] = seeding.data_dir
    body: dict[str, Any] = {
        "Image": seeding.image_id,
        "Env": [f"{key}={value}" for key, value in env.items()],
        "Labels": {LABEL_TEMPLATE_BUILD: seeding.key},
        "HostConfig": {"NetworkMode": "none"},
    }
    for field in ("Cmd", "Entrypoint"):
        if source.get(field) is not None:
            body[field] = source[field]
    return body


def _wait_initialised(sock: Path, container: str, markers: tuple[str, ...], abort: threading.Event) -> None:
    deadline = time.monotonic() + BUILD_TIMEOUT_S
    while True:
        if abort.is_set():
            raise BuildAborted("aborted")
        logs = engine_reads.demultiplex(engine_reads.stream(sock, "GET", f"/containers/{container}/logs", params={"stdout": True, "stderr": True}, timeout=30))
        if _in_order(logs, markers):
            return
        state = request(sock, "GET", f"/containers/{container}/json").get("State") or {}
        if not state.get("Running"):
            raise RuntimeError(f"the template's server exited ({state.get('ExitCode')}) before it was initialised: {logs.strip()[-300:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"not initialised within {BUILD_TIMEOUT_S:g}s")
        time.sleep(POLL_S)


def _in_order(text: str, markers: tuple[str, ...]) -> bool:
    position = 0
    for marker in markers:
        found = text.find(marker, position)
        if found < 0:
            return False
        position = found + len(marker)
    return True


def _template_labels(seeding: Seeding) -> dict[str, str]:
    return {LABEL_TEMPLATE_KEY: seeding.key, LABEL_TEMPLATE_SOURCE: seeding.image_id, LABEL_TEMPLATE_IMAGE: seeding.image}


def _commit_params(seeding: Seeding, container: str) -> dict[str, Any]:
    return {
        "container": container,
        "repo": TEMPLATE_REPOSITORY,
        "tag": seeding.key[:24],
        "comment": f"omnitron: initialised data of {seeding.image} (random credentials, never used)",
        "pause": False,
    }


def _remove_stale_builders(sock: Path, key: str) -> None:
    """Builders of ``key`` left by a run that was killed: stopped ones, or ones older than 10 minutes.

    A container that is running or only created (a volume being seeded this moment) and younger is someone's work in progress.
    """
    found = request(sock, "GET", "/containers/json", params={"all": True, "filters": {"label": [f"{LABEL_TEMPLATE_BUILD}={key}"]}})
    for data in found or []:
        if data.get("State") in ("running", "created") and time.time() - data.get("Created", 0) < STALE_BUILD_S:
            continue
        try:
            request(sock, "DELETE", f"/containers/{data['Id']}", params={"v": True, "force": True})
        except EngineReadError:
            pass


def _remove_outdated(sock: Path, seeding: Seeding, *, keep: str) -> None:
    """Templates of the same image name made from another image ID (the image changed), or duplicates of this key."""
    found = request(sock, "GET", "/images/json", params={"filters": {"label": [f"{LABEL_TEMPLATE_IMAGE}={seeding.image}"]}})
    for image in found or []:
        labels = image.get("Labels") or {}
        if image["Id"] == keep or (labels.get(LABEL_TEMPLATE_SOURCE) == seeding.image_id and labels.get(LABEL_TEMPLATE_KEY) != seeding.key):
            continue  # the new one, or one for other settings of the same image
        try:
            request(sock, "DELETE", f"/images/{image['Id']}")
        except EngineReadError:
            pass  # in use right now (being seeded from): left for next time
