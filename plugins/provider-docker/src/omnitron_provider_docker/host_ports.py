"""Is a host port free, and if not, who holds it? Blocking helpers: run them in a thread."""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
from pathlib import Path

WILDCARDS = {"", "0.0.0.0", "::"}


def addresses_overlap(a: str, b: str) -> bool:
    """Whether listening on ``a`` and on ``b`` (same port) would clash."""
    return a in WILDCARDS or b in WILDCARDS or a == b


def port_in_use(address: str, port: int) -> bool:
    """Whether binding ``address:port`` fails because something holds it.

    ``SO_REUSEADDR`` is set so a socket lingering in TIME_WAIT does not count;
    an address that is not local to this machine cannot be checked (``False``).
    """
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(address or "0.0.0.0").version == 6 else socket.AF_INET
    except ValueError:
        family = socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address or "0.0.0.0", port))
    except OSError as exc:
        return exc.errno in (errno.EADDRINUSE, errno.EACCES)
    finally:
        sock.close()
    return False


def listener_of(port: int) -> str | None:
    """``name (pid N)`` of the process listening on TCP ``port``, when this machine says (Linux /proc)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10 or fields[3] != "0A":  # 0A: LISTEN
                continue
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    if not inodes:
        return None
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        fd_dir = f"/proc/{pid}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"{fd_dir}/{fd}")
            except OSError:
                continue
            if target in wanted:
                try:
                    name = Path(f"/proc/{pid}/comm").read_text().strip()
                except OSError:
                    name = "a process"
                return f"{name} (pid {pid})"
    return None
