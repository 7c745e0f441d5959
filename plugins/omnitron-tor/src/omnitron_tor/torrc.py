"""The hardened torrc, as ``(option, value)`` lines. Pure: no I/O.

One list of lines serves both providers. In a container they are tor's
command-line arguments (``--Option value``, what :func:`command_args`
makes); as a native process the recipe turns the rendered arguments back
into lines (:func:`parse_args`), moves the paths onto the service's data
directory (:func:`relocate`) and feeds them to ``tor -f -`` on stdin
(:func:`torrc_text`), so nothing of it is on a command line or on disk.

Values may hold templates the engine renders: ``${port:socks}`` (the planned
host port), ``${tor_target:TARGET}`` (a hidden service's target resolved
through the plan) and ``${tor_hashed_password:control_password}``.
"""

from __future__ import annotations

from .config import TorConfig

DATA_ROOT = "/var/lib/tor"
"""Where tor keeps its data (and the hidden service keys) in the container: the service's volume."""
COOKIE_FILE = "control_auth_cookie"
Line = tuple[str, str]

HARDENING: tuple[Line, ...] = (
    ("ORPort", "0"),
    ("DirPort", "0"),
    ("ExitRelay", "0"),
    ("ExitPolicy", "reject *:*"),
    ("ClientOnly", "1"),
    ("SafeLogging", "1"),
)
"""Lines every torrc gets: a client that never relays, never exits, and scrubs addresses from its logs."""
LEADING_ARGS = ("--defaults-torrc", "/nonexistent/torrc-defaults", "--ignore-missing-torrc", "-f", "/nonexistent/torrc")
"""Before the options on tor's command line: no torrc file is read (the image's one is ignored)."""
PATH_OPTIONS = ("DataDirectory", "HiddenServiceDir", "CookieAuthFile")
OPTIONAL = ("HiddenServiceEnableIntroDoSDefense", "HiddenServicePoWDefensesEnabled")
"""Defences dropped (with a note) when the tor binary does not know them."""


def hidden_service_dir(root: str, name: str) -> str:
    return f"{root}/hs_{name}"


def torrc_lines(config: TorConfig, root: str = DATA_ROOT) -> list[Line]:
    """Every line of the torrc for ``config``, with data under ``root``."""
    lines: list[Line] = [("DataDirectory", root), ("Log", "notice stdout")]
    lines.append(("SocksPort", "127.0.0.1:${port:socks}" if config.socks else "0"))
    lines.extend(HARDENING)
    control = config.control
    if control is None:
        lines.append(("ControlPort", "0"))
    else:
        lines.append(("ControlPort", "127.0.0.1:${port:control}"))
        if control.auth == "password":
            lines.append(("HashedControlPassword", "${tor_hashed_password:control_password}"))
        else:
            lines += [("CookieAuthentication", "1"), ("CookieAuthFile", f"{root}/{COOKIE_FILE}")]
    if config.testing.disable_network:
        lines.append(("DisableNetwork", "1"))
    for raw in config.extra_torrc:
        if raw.strip() and not raw.lstrip().startswith("#"):
            key, _, value = raw.strip().partition(" ")
            lines.append((key, value.strip().replace("${", "$${")))  # written as is, never a template
    for hs in config.hidden_services:
        lines += [
            ("HiddenServiceDir", hidden_service_dir(root, hs.name)),
            ("HiddenServiceVersion", "3"),
            ("HiddenServicePort", f"{hs.virtual_port} ${{tor_target:{hs.target}}}"),
        ]
        if config.intro_dos_defense:
            lines.append(("HiddenServiceEnableIntroDoSDefense", "1"))
        if config.pow_defense:
            lines.append(("HiddenServicePoWDefensesEnabled", "1"))
    return lines


def command_args(lines: list[Line]) -> list[str]:
    """tor's command line after the program name: no torrc file, then ``--Option value`` per line."""
    args = list(LEADING_ARGS)
    for key, value in lines:
        args += [f"--{key}", value]
    return args


def parse_args(args: list[str]) -> list[Line]:
    """The lines :func:`command_args` made (rendered), back from the argument list."""
    rest = list(args)
    if tuple(rest[: len(LEADING_ARGS)]) == LEADING_ARGS:
        rest = rest[len(LEADING_ARGS) :]
    if len(rest) % 2:
        raise ValueError(f"tor arguments do not come in --Option value pairs: {rest[-1]!r} has no value")
    lines: list[Line] = []
    for key, value in zip(rest[::2], rest[1::2]):
        if not key.startswith("--"):
            raise ValueError(f"expected --Option, got {key!r}")
        lines.append((key[2:], value))
    return lines


def relocate(lines: list[Line], root: str, *, source: str = DATA_ROOT) -> list[Line]:
    """``lines`` with the paths below ``source`` (the container's data root) moved below ``root``."""
    out: list[Line] = []
    for key, value in lines:
        if key in PATH_OPTIONS and (value == source or value.startswith(source + "/")):
            value = root + value[len(source) :]
        out.append((key, value))
    return out


def torrc_text(lines: list[Line]) -> str:
    """The lines as a torrc file."""
    for key, value in lines:
        if "\n" in key + value:
            raise ValueError(f"torrc option {key} holds a line break")
    return "".join(f"{key} {value}\n" for key, value in lines)
