"""Cached, initialised data templates on the local engine (blocking: call from a worker thread).

A template is an image: the service's own image, run once with random
credentials and its data directory under :data:`TEMPLATE_ROOT` (a path of the
container's layer, not a volume), stopped once initialised, and committed.
It is found again by its labels (:data:`LABEL_TEMPLATE_KEY`: a digest of the
image ID and everything that shapes the initialised data, see
:func:`template_key`). Its data is also kept as one tar file in the
user's cache, named by the template's image ID (:func:`archive_path`, saved
as the template is built, or from a container of the template on first use
when missing; removed with the template):
seeding a new, empty volume fills the volume's directory from this side when
omnitron runs as root beside the engine (:mod:`.volume_fill`: a ready copy
moved in, or the file unpacked there), and otherwise sends the file into the
service's created, not yet started container at the volume's mount path
(:func:`seed`), so the engine extracts it.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import logging
import os
import posixpath
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from omnitron.api import DataTemplate, user_cache_dir

from . import engine_reads, volume_fill
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
ARCHIVE_TIMEOUT_S = 300.0
ARCHIVES = "docker-templates"
"""The part of the user's cache holding the templates' archives (:func:`archive_path`)."""
log = logging.getLogger("omnitron.docker")


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


def archive_path(template_id: str) -> Path | None:
    """Where the archive of template ``template_id``'s data is kept (per user, named by the template's image ID)."""
    root = user_cache_dir(ARCHIVES)
    return root / f"{template_id.removeprefix('sha256:')}.tar" if root is not None else None


def seed(sock: Path, template_id: str, container_id: str, seeding: Seeding, volume: str) -> str:
    """Copy the template's data into the created, never-started container at ``seeding.target`` (its new, empty
    ``volume``); how it went in: ``"moved"`` or ``"unpacked"`` (:func:`.volume_fill.fill`), or ``"sent"`` (through the engine).

    The data is one archive, the file kept in the user's cache
    (:func:`archive_path`); when it is missing, it is saved from the template
    first (:func:`save_archive`). An archive that cannot be unpacked or that
    the engine cannot take in is removed, so the next seeding saves it again.
    """
    path = archive_path(template_id)
    kept = path is not None
    if path is None or not path.is_file():
        path = save_archive(sock, template_id, seeding, path)
    try:
        how = volume_fill.fill(sock, container_id, seeding.target, volume, path, template_id) if kept else None
        if how is not None:
            return how
        _put_archive(sock, container_id, seeding.target, path)
        return "sent"
    except EngineReadError:
        path.unlink(missing_ok=True)
        raise
    finally:
        if not kept:
            path.unlink(missing_ok=True)


def save_archive(sock: Path, template_id: str, seeding: Seeding, path: Path | None) -> Path:
    """Write the archive of :data:`TEMPLATE_ROOT` of the template to ``path`` (``None``: a temporary file); the file.

    It is read from a container of the template (created, never started, then
    removed; an unused tmpfs stands at each of the image's ``VOLUME`` paths, so
    the engine makes no anonymous volume for them), without the files the
    server makes again (:attr:`~omnitron.api.DataTemplate.rebuilt_files`), and
    written whole (synced, then renamed into place) or not at all.
    """
    if path is None:
        fd, name = tempfile.mkstemp(prefix="omnitron-template-", suffix=".tar")
        os.close(fd)
        path = Path(name)
    body = {
        "Image": template_id,
        "Labels": {LABEL_TEMPLATE_BUILD: seeding.key},
        "HostConfig": {"Tmpfs": {vol: "" for vol in seeding.image_volumes if vol != TEMPLATE_ROOT}, "NetworkMode": "none"},
    }
    source = request(sock, "POST", "/containers/create", body=body)["Id"]
    try:
        _save_from(sock, source, seeding, path)
    finally:
        try:
            request(sock, "DELETE", f"/containers/{source}", params={"v": True, "force": True})
        except EngineReadError as exc:
            if exc.status != 404:
                raise
    return path


def _save_from(sock: Path, container: str, seeding: Seeding, path: Path) -> None:
    """Write the archive of :data:`TEMPLATE_ROOT` in ``container`` (a template's, or its stopped builder) to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    part = path.with_name(f"{path.name}.{secrets.token_hex(4)}.part")
    reader = engine_reads.UnixConnection(sock, ARCHIVE_TIMEOUT_S)
    try:
        reader.request("GET", f"/containers/{container}/archive?{urlencode({'path': f'{TEMPLATE_ROOT}/.'})}", headers={"Host": "docker"})
        got = reader.getresponse()
        if got.status != 200:
            raise EngineReadError(got.status, got.read().decode(errors="replace").strip() or got.reason)
        with open(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            _copy_archive(got, out, _skipped(seeding))
            out.flush()
            os.fsync(out.fileno())
        os.replace(part, path)
    except OSError as exc:
        raise EngineReadError(900, f"cannot save the template's archive from the Docker engine at {sock} to {path}: {exc}") from None
    finally:
        reader.close()
        part.unlink(missing_ok=True)


def _skipped(seeding: Seeding) -> tuple[str, ...]:
    """The template's :attr:`~omnitron.api.DataTemplate.rebuilt_files` as patterns of names in the archive of :data:`TEMPLATE_ROOT`."""
    rel = posixpath.relpath(seeding.data_dir, TEMPLATE_ROOT)
    return tuple(pattern if rel == "." else f"{rel}/{pattern}" for pattern in seeding.template.rebuilt_files)


def _copy_archive(source: Any, out: Any, skipped: tuple[str, ...]) -> None:
    """Copy the tar stream ``source`` to ``out``, without the members whose names match a pattern of ``skipped``."""
    if not skipped:
        while block := source.read(1 << 20):
            out.write(block)
        return
    import tarfile  # only when an archive is saved

    with tarfile.open(fileobj=source, mode="r|") as src, tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as dst:
        for member in src:
            if not any(fnmatch.fnmatchcase(posixpath.normpath(member.name), pattern) for pattern in skipped):
                dst.addfile(member, src.extractfile(member) if member.isreg() else None)


def _put_archive(sock: Path, container: str, container_path: str, archive: Path, *, timeout: float = ARCHIVE_TIMEOUT_S) -> None:
    """Send the tar file ``archive`` into ``container_path`` of container ``container`` (extracted there by the engine)."""
    writer = engine_reads.UnixConnection(sock, timeout)
    writer.blocksize = 1 << 20
    try:
        with archive.open("rb") as data:
            url = f"/containers/{container}/archive?{urlencode({'path': container_path})}"
            writer.request("PUT", url, body=data, headers={"Host": "docker", "Content-Type": "application/x-tar", "Content-Length": str(os.fstat(data.fileno()).st_size)})
            put = writer.getresponse()
            answer = put.read()
        if put.status != 200:
            raise EngineReadError(put.status, answer.decode(errors="replace").strip() or put.reason)
    except OSError as exc:
        raise EngineReadError(900, f"cannot copy the template's archive {archive} to the Docker engine at {sock}: {exc}") from None
    finally:
        writer.close()


def _remove_archives(keep: set[str]) -> None:
    """Remove the kept archives of templates that are gone (``keep``: image IDs of the templates that exist)."""
    root = user_cache_dir(ARCHIVES)
    if root is None or not root.is_dir():
        return
    wanted = {image_id.removeprefix("sha256:") for image_id in keep}
    for path in root.iterdir():
        stem = path.name.partition(".")[0]
        if stem in wanted and path.name.endswith(".tar"):
            continue
        if path.name.endswith(".part") and stem in wanted and time.time() - path.stat().st_mtime < STALE_BUILD_S:
            continue  # being written now
        path.unlink(missing_ok=True)


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
        path = archive_path(committed["Id"])
        if path is not None and not abort.is_set():
            try:  # from the stopped builder: the first project seeded from the template finds it ready
                _save_from(sock, container, seeding, path)
            except EngineReadError as exc:
                log.warning("the archive of the data template of %s was not saved (its first seeding saves it): %s", seeding.image, exc)
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
    """Templates of the same image name made from another image ID (the image changed), or duplicates of this key;
    then the kept archives and ready copies of every template that no longer exists."""
    found = request(sock, "GET", "/images/json", params={"filters": {"label": [f"{LABEL_TEMPLATE_IMAGE}={seeding.image}"]}})
    for image in found or []:
        labels = image.get("Labels") or {}
        if image["Id"] == keep or (labels.get(LABEL_TEMPLATE_SOURCE) == seeding.image_id and labels.get(LABEL_TEMPLATE_KEY) != seeding.key):
            continue  # the new one, or one for other settings of the same image
        try:
            request(sock, "DELETE", f"/images/{image['Id']}")
        except EngineReadError:
            pass  # in use right now (being seeded from): left for next time
    remaining = {image["Id"] for image in request(sock, "GET", "/images/json", params={"filters": {"label": [LABEL_TEMPLATE_KEY]}}) or []}
    _remove_archives(remaining)
    volume_fill.remove_spares(sock, remaining)
