"""Host ports for providers: is one taken, and by whom.

Blocking helpers: call them from a worker thread in async code. Whether a
port is taken is a bind test (then ``/proc/net/tcp{,6}``); which of our own
processes listens is read from ``/proc`` (:func:`listeners`, on every ``up``);
who else holds a port, for an error message, comes from psutil
(:func:`describe_listeners`), whose ~50 ms import only that error path pays.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
from collections.abc import Iterable, Iterator
from pathlib import Path

_LISTEN = "0A"
_WILDCARDS = {"0.0.0.0", "::", "", "*"}


def _address(hex_addr: str) -> str:
    raw = bytes.fromhex(hex_addr)
    if len(raw) == 4:
        return str(ipaddress.IPv4Address(raw[::-1]))
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    addr = ipaddress.IPv6Address(words)
    return str(addr.ipv4_mapped) if addr.ipv4_mapped else str(addr)


def _conflicts(listen: str, bind: str | None) -> bool:
    return bind is None or bind in _WILDCARDS or listen in _WILDCARDS or listen == bind


def addresses_overlap(a: str, b: str) -> bool:
    """Whether listening on ``a`` and on ``b`` (same port) would clash."""
    return _conflicts(a, b)


def _listening_sockets() -> Iterator[tuple[str, int, str]]:
    """``(address, port, inode)`` of every listening TCP socket of this network namespace (``/proc/net/tcp{,6}``)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) >= 10 and fields[3] == _LISTEN:
                addr, _, port_hex = fields[1].rpartition(":")
                yield _address(addr), int(port_hex, 16), fields[9]


def listening_inodes(port: int, bind: str | None = None) -> set[str]:
    """Socket inodes listening on ``port`` on an address that clashes with ``bind`` (any address when ``None``)."""
    return {inode for addr, listen_port, inode in _listening_sockets() if listen_port == port and _conflicts(addr, bind)}


def can_bind(port: int, host: str = "127.0.0.1") -> bool | None:
    """Whether ``host:port`` can be bound now (``None``: cannot tell, e.g. a privileged port)."""
    target = "0.0.0.0" if host in ("", "*") else host
    family = socket.AF_INET6 if ":" in target else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((target, port))
        except PermissionError:
            return None
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            return None
    return True


def is_listening(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something listens on ``port`` where binding ``host`` would clash (a bind test, then ``/proc``, then a connect)."""
    free = can_bind(port, host)
    if free is not None:
        return not free
    if Path("/proc/net/tcp").exists():
        return bool(listening_inodes(port, host))
    target = "127.0.0.1" if host in _WILDCARDS else host
    family = socket.AF_INET6 if ":" in target else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((target, port)) == 0


def listeners(port: int, bind: str | None = None, *, prefer: Iterable[int] = ()) -> dict[int, str]:
    """Processes listening on ``port`` (clashing with ``bind``) that this user may see: pid -> command name.

    :param prefer: pids to look at first (a provider's own server): when they hold every listening
        socket, the other processes are not searched (a machine may run thousands).
    """
    inodes = {f"socket:[{i}]" for i in listening_inodes(port, bind)}
    found: dict[int, str] = {}
    if not inodes:
        return found
    held: set[str] = set()
    for pid in prefer:
        mine = _holds(str(pid), inodes)
        if mine:
            held |= mine
            found[pid] = _comm(pid)
    if held == inodes:
        return found
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and int(entry.name) not in found and _holds(entry.name, inodes, first=True):
            found[int(entry.name)] = _comm(int(entry.name))
    return found


def _holds(pid: str, inodes: set[str], *, first: bool = False) -> set[str]:
    """Which of ``inodes`` process ``pid`` has open (the first one only, with ``first``)."""
    out: set[str] = set()
    try:
        fds = os.scandir(f"/proc/{pid}/fd")
    except OSError:
        return out
    with fds:
        for fd in fds:
            try:
                target = os.readlink(fd.path)
            except OSError:
                continue
            if target in inodes:
                out.add(target)
                if first:
                    break
    return out


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


def _psutil_listeners(port: int, bind: str | None) -> dict[int, str]:
    import psutil

    found: dict[int, str] = {}
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status != psutil.CONN_LISTEN or not conn.laddr or conn.laddr.port != port or conn.pid is None:
            continue
        if _conflicts(conn.laddr.ip.removeprefix("::ffff:"), bind):
            try:
                found[conn.pid] = psutil.Process(conn.pid).name()
            except psutil.Error:
                found[conn.pid] = "?"
    return found


def describe_listeners(port: int, bind: str | None = None) -> str:
    """``pid N (name), ...`` of what listens on ``port``, for error messages."""
    try:
        found = _psutil_listeners(port, bind)
    except Exception:  # psutil cannot see the sockets here: read /proc ourselves
        found = {}
    found = found or listeners(port, bind)
    if found:
        return ", ".join(f"pid {pid} ({comm})" for pid, comm in sorted(found.items()))
    low = ephemeral_start()
    if low and port >= low and not listening_inodes(port, bind):
        return f"an open connection's local end (port {port} is in the kernel's range for outgoing connections, from {low}: keep host ports below it)"
    return "a process this user cannot see (or an open connection's local end)"


def ephemeral_start() -> int:
    """The first port the kernel hands to outgoing connections (0 when it does not say)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def free_port_offset(ports: Iterable[int], host: str = "127.0.0.1", *, step: int = 100, lowest: int = 1000) -> int:
    """A ``portOffsets`` value (a multiple of ``step``) under which every one of ``ports`` is free on ``host`` now.

    Every shifted port stays below the ephemeral range, where an outgoing
    connection's local end could take it before the server binds it.
    """
    import random

    ports = sorted(set(ports))
    ceiling = ephemeral_start() or 65536
    top = (ceiling - 1 - ports[-1]) // step
    if top < lowest // step:
        raise ValueError(f"no offset keeps port {ports[-1]} below {ceiling}")
    for _ in range(200):
        offset = random.randrange(lowest // step, top + 1) * step
        if all(can_bind(port + offset, host) for port in ports):
            return offset
    raise RuntimeError(f"no offset found under which ports {ports} are all free on {host}")


def free_port(host: str = "127.0.0.1") -> int:
    """A port free on ``host`` now, below the ephemeral range when the kernel says where it starts.

    Ports the kernel hands to outgoing connections are avoided, so none of
    them takes the port between this call and the server binding it.
    """
    import random

    low = ephemeral_start()
    if low > 2048:
        for _ in range(200):
            port = random.randrange(max(1024, low - 12000), low)
            if can_bind(port, host):
                return port
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def process_tree(pid: int) -> set[int]:
    """``pid`` and every process descended from it (from ``/proc``; just ``{pid}`` where there is none)."""
    children: dict[int, list[int]] = {}
    try:
        entries = [e.name for e in os.scandir("/proc") if e.name.isdigit()]
    except OSError:
        return {pid}
    for name in entries:
        try:
            raw = Path(f"/proc/{name}/stat").read_text()
        except OSError:
            continue
        ppid = int(raw[raw.rindex(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(name))
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo.extend(children.get(current, ()))
    return found


def listening_addresses(pids: set[int]) -> set[tuple[str, int]]:
    """``(address, port)`` of every TCP socket the processes ``pids`` listen on (those this user may see)."""
    inodes: set[str] = set()
    for pid in pids:
        try:
            fds = os.scandir(f"/proc/{pid}/fd")
        except OSError:
            continue
        with fds:
            for fd in fds:
                try:
                    target = os.readlink(fd.path)
                except OSError:
                    continue
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    return {(addr, port) for addr, port, inode in _listening_sockets() if inode in inodes} if inodes else set()
