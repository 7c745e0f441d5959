"""Who a service runs as.

A service runs as the user running omnitron. When that is root, every
service runs as an unprivileged account instead (least privilege; PostgreSQL
would refuse root anyway): ``$OMNITRON_SERVICE_USER``, else a system user
``omnitron`` (created on first use with ``useradd --system``), else ``nobody``.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import stat
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from omnitron.api import ProvisionError

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
"""PATH of a service that runs as the unprivileged account (the caller's PATH may hold directories it cannot read)."""
DEFAULT_USER = "omnitron"
FALLBACK_USER = "nobody"

_lock = threading.Lock()


@dataclass(frozen=True)
class Account:
    """An unprivileged account a service runs as."""

    name: str
    uid: int
    gid: int

    def can_traverse(self, path: Path) -> bool:
        """Whether this account may reach inside ``path``: search permission on it and every directory above it.

        Components that do not exist yet count as reachable (omnitron creates them searchable).
        """
        path = path.resolve()
        for parent in [*reversed(path.parents), path]:
            try:
                st = parent.stat()
            except FileNotFoundError:
                return True
            except OSError:
                return False
            if st.st_uid == self.uid:
                bit = stat.S_IXUSR
            elif st.st_gid == self.gid:
                bit = stat.S_IXGRP
            else:
                bit = stat.S_IXOTH
            if not st.st_mode & bit:
                return False
        return True

    def can_execute(self, path: Path) -> bool:
        """Whether this account may run the executable ``path``."""
        if not self.can_traverse(path.resolve().parent):
            return False
        try:
            st = path.resolve().stat()
        except OSError:
            return False
        bit = stat.S_IXUSR if st.st_uid == self.uid else stat.S_IXGRP if st.st_gid == self.gid else stat.S_IXOTH
        return bool(st.st_mode & bit)

    def chown_tree(self, path: Path) -> None:
        """Give ``path`` and everything below it to this account.

        What it owns already is left as it is: a chown rewrites the inode even then, and a data directory taken
        from a copy made for this account (~1000 files) would wait for those writes at its first commit.
        """
        self._chown(str(path))
        for root, dirs, files in os.walk(path):
            for name in dirs + files:
                self._chown(os.path.join(root, name))

    def _chown(self, path: str) -> None:
        st = os.lstat(path)
        if st.st_uid != self.uid or st.st_gid != self.gid:
            os.chown(path, self.uid, self.gid, follow_symlinks=False)


def _lookup(name: str) -> Account | None:
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    return Account(entry.pw_name, entry.pw_uid, entry.pw_gid)


def _create_system_user(name: str) -> bool:
    useradd = shutil.which("useradd") or next((p for p in ("/usr/sbin/useradd", "/sbin/useradd") if os.path.exists(p)), None)
    if useradd is None:
        return False
    shell = "/usr/sbin/nologin" if os.path.exists("/usr/sbin/nologin") else "/bin/false"
    try:
        group_exists = bool(grp.getgrnam(name))
    except KeyError:
        group_exists = False
    args = [useradd, "--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell", shell]
    args += ["--gid", name] if group_exists else ["--user-group"]
    result = subprocess.run([*args, name], capture_output=True, check=False)
    return result.returncode == 0 or _lookup(name) is not None


def service_account() -> Account | None:
    """The account services run as when omnitron runs as root, or ``None`` when it does not."""
    if os.geteuid() != 0:
        return None
    wanted = os.environ.get("OMNITRON_SERVICE_USER", "").strip()
    with _lock:
        if wanted:
            account = _lookup(wanted)
            if account is None:
                raise ProvisionError(f"OMNITRON_SERVICE_USER={wanted}: no such user")
            if account.uid == 0:
                raise ProvisionError(f"OMNITRON_SERVICE_USER={wanted}: must be an unprivileged user, not root")
            return account
        account = _lookup(DEFAULT_USER)
        if account is None and _create_system_user(DEFAULT_USER):
            account = _lookup(DEFAULT_USER)
        if account is None:
            account = _lookup(FALLBACK_USER)
        if account is None:
            raise ProvisionError(
                f"running as root, and no unprivileged user to run services as: create one ({DEFAULT_USER!r}) or set OMNITRON_SERVICE_USER"
            )
        return account
