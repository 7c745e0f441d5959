"""Filling a new data volume with a template's data from this side of the engine (blocking: call from a worker thread).

When omnitron runs as root beside a local engine, the directory of a new,
empty volume is written here directly (:func:`volume_directory` says when),
instead of sending the archive through the engine, which is several times
slower. Fastest of all is the template's *ready copy*: the archive already
unpacked in a volume of its own (:func:`spare_volume_name`, labelled
:data:`LABEL_SPARE` with the template's image ID, removed with the template),
moved into the new volume entry by entry: both are directories of the
engine's volume store, so that is a rename each. After each filling a
detached process unpacks the next ready copy once the command that used it
has exited (:func:`refill`). Without a ready copy the archive is unpacked
into the volume. Either way the engine must then see what was written in
the container, else it is removed again and the engine copies the archive in.
"""

from __future__ import annotations

import os
import posixpath
import secrets
import shutil
import stat
import subprocess
import time
from pathlib import Path
from urllib.parse import urlencode

from omnitron.api import run_after_exit

from . import engine_reads
from .engine_reads import EngineReadError, request

LABEL_SPARE = "omnitron.template.spare"
"""On the volume holding a template's ready copy: the template's image ID."""
READY = "ready"
"""The ready copy's directory in its volume; ``.unpacking-<random>`` while it is made, ``taken-<random>`` while moved out."""
STALE_S = 600.0
"""A ready copy still being made (or moved out) after this long was left by a killed process."""
REFILL_AFTER = 3.0
"""Seconds the background unpacking of the next ready copy waits at most for the command that took one to exit
(a daemon goes on): meanwhile the disk serves the service that starts from it."""


def spare_volume_name(template_id: str) -> str:
    """The volume that holds the ready copy of template ``template_id``."""
    return f"omnitron-template-ready-{template_id.removeprefix('sha256:')[:24]}"


def volume_directory(sock: Path, volume: str, *, empty: bool = True) -> Path | None:
    """The directory of the engine's ``volume`` (new and empty, unless not ``empty``) when omnitron may fill it
    itself, else ``None``.

    That is: omnitron runs as root (it writes the archive's owners as they
    are, as the engine would), the volume is the ``local`` driver's with no
    mount options, and its ``Mountpoint`` is here, a directory owned by root
    (an engine that remaps user IDs, or that lives in another filesystem
    namespace, fails one of these; :func:`fill` also checks that the engine
    sees what was written).
    """
    if os.geteuid() != 0 or shutil.which("tar") is None:
        return None
    try:
        data = request(sock, "GET", f"/volumes/{volume}")
    except EngineReadError as exc:
        if exc.status == 404:
            return None
        raise
    mountpoint = data.get("Mountpoint") if data.get("Driver") == "local" and not (data.get("Options") or {}) else None
    if not mountpoint:
        return None
    path = Path(mountpoint)
    try:
        if path.is_symlink() or not path.is_dir() or path.stat().st_uid != 0:
            return None
        if empty:
            with os.scandir(path) as listing:
                if next(listing, None) is not None:
                    return None
    except OSError:
        return None
    return path


def fill(sock: Path, container_id: str, target: str, volume: str, archive: Path, template_id: str) -> str | None:
    """Fill the directory of the container's new ``volume`` (mounted at ``target``) with the data of template ``template_id``; how
    (``"moved"``: its ready copy, ``"unpacked"``: from ``archive``), or ``None`` when that is not possible here
    (nothing was written).

    :raises EngineReadError: the data could not be written (the volume may hold part of it).
    """
    path = volume_directory(sock, volume)
    if path is None:
        return None
    how = "moved" if _take_spare(sock, template_id, path) else None
    if how is None:
        done = subprocess.run(["tar", "-x", "-f", str(archive), "-C", str(path), "--numeric-owner", "-p"], capture_output=True, stdin=subprocess.DEVNULL, check=False)
        if done.returncode != 0:
            raise EngineReadError(900, f"cannot unpack the template's archive {archive} into volume {volume}: {done.stderr.decode(errors='replace').strip()[-300:]}")
        how = "unpacked"
    with os.scandir(path) as listing:
        entries = sorted(entry.name for entry in listing)
    if entries and _engine_sees(sock, container_id, posixpath.join(target, entries[0])):
        refill(sock, template_id, archive)
        return how
    for entry in entries:  # not the engine's directory after all: leave it as found
        _remove(path / entry)
    return None


def _take_spare(sock: Path, template_id: str, path: Path) -> bool:
    """Move the template's ready copy into the empty volume directory ``path``; ``False`` when there is none to take
    (none yet, or taken by a concurrent filling).

    :raises EngineReadError: the move broke off (the volume may hold part of it; the copy is dropped).
    """
    spare = volume_directory(sock, spare_volume_name(template_id), empty=False)
    if spare is None:
        return False
    claimed = spare / f"taken-{secrets.token_hex(4)}"
    try:
        os.rename(spare / READY, claimed)  # one filling takes it
    except OSError:
        return False
    try:
        root = claimed.stat()
        with os.scandir(claimed) as listing:
            for entry in listing:
                os.rename(entry.path, path / entry.name)
        os.chown(path, root.st_uid, root.st_gid)
        os.chmod(path, stat.S_IMODE(root.st_mode))
        claimed.rmdir()
    except OSError as exc:
        shutil.rmtree(claimed, ignore_errors=True)
        raise EngineReadError(900, f"cannot move the ready copy of the template in {spare} into {path}: {exc}") from None
    return True


def refill(sock: Path, template_id: str, archive: Path) -> None:
    """Unpack the next ready copy of the template in the background, in its volume (made now when missing).

    Detached, and begun only once this command has exited (or after
    :data:`REFILL_AFTER` seconds, for a daemon that goes on: :func:`~omnitron.api.run_after_exit`). It unpacks to a
    staging name, renamed to :data:`READY` when complete; a failed unpacking
    leaves nothing behind, and what a killed one left is removed here.
    """
    name = spare_volume_name(template_id)
    spare = volume_directory(sock, name, empty=False)
    if spare is None:
        request(sock, "POST", "/volumes/create", body={"Name": name, "Labels": {LABEL_SPARE: template_id}})
        spare = volume_directory(sock, name)
    if spare is None or (spare / READY).exists() or not archive.is_file():
        return
    now = time.time()
    with os.scandir(spare) as listing:
        left = [Path(entry.path) for entry in listing if entry.name != READY and now - entry.stat(follow_symlinks=False).st_mtime > STALE_S]
    for path in left:
        _remove(path, missing_ok=True)
    staging = spare / f".unpacking-{secrets.token_hex(4)}"
    script = 'mkdir -m 700 "$2" && tar -x -f "$1" -C "$2" --numeric-owner -p && mv -T "$2" "$3" 2>/dev/null || rm -rf "$2"'
    run_after_exit(script, str(archive), str(staging), str(spare / READY), wait_at_most=REFILL_AFTER)


def remove_spares(sock: Path, keep: set[str]) -> None:
    """Remove the volumes of ready copies of templates that are gone (``keep``: image IDs of the templates that exist)."""
    found = request(sock, "GET", "/volumes", params={"filters": {"label": [LABEL_SPARE]}})
    for volume in (found or {}).get("Volumes") or []:
        if (volume.get("Labels") or {}).get(LABEL_SPARE) in keep:
            continue
        try:
            request(sock, "DELETE", f"/volumes/{volume['Name']}")
        except EngineReadError:
            pass  # in use this moment: left for next time


def _remove(path: Path, *, missing_ok: bool = False) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except FileNotFoundError:
        if not missing_ok:
            raise


def _engine_sees(sock: Path, container_id: str, container_path: str) -> bool:
    """Whether ``container_path`` exists in the container, as the engine sees it (``HEAD`` of its archive: a stat, no data)."""
    conn = engine_reads.UnixConnection(sock, 30.0)
    try:
        conn.request("HEAD", f"/containers/{container_id}/archive?{urlencode({'path': container_path})}", headers={"Host": "docker"})
        answer = conn.getresponse()
        answer.read()
        return answer.status == 200
    except OSError:
        return False
    finally:
        conn.close()

