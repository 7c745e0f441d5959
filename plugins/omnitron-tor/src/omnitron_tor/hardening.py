"""What ``extraTorrc`` may not say: options that would undo the preset's hardening.

The preset runs tor as a client that never relays, never exits, publishes
nothing but its hidden services, and listens on 127.0.0.1 only. A line of
``extraTorrc`` that would change any of that is refused with the reason, so
the error names the line (``...config.extraTorrc.2``) and says what to use
instead. Everything else is passed to tor as written.
"""

from __future__ import annotations

import ipaddress
import re

_LINE = re.compile(r"^\s*(?P<key>[A-Za-z_%][A-Za-z0-9_]*)(?:\s+(?P<value>.*?))?\s*$")

MANAGED = {
    "datadirectory": "the data directory is the service's volume: omnitron sets it",
    "user": "omnitron chooses the user tor runs as",
    "runasdaemon": "tor must stay in the foreground to be supervised",
    "pidfile": "omnitron supervises the process itself",
    "socksport": "use config.socks (and config.socksPort): it binds 127.0.0.1 on a planned port",
    "controlport": "use config.controlPort: it binds 127.0.0.1 with authentication",
    "hashedcontrolpassword": "use config.controlPort: the password comes from the secret store",
    "cookieauthentication": "use config.controlPort with auth cookie",
    "cookieauthfile": "use config.controlPort with auth cookie",
    "%include": "every line must be visible here to be checked",
}
"""Options omnitron sets itself (lowercase) -> what to use instead."""

RELAY = {
    "exitrelay": "tor never exits traffic for others here",
    "exitpolicy": "the exit policy stays `reject *:*`",
    "orport": "tor never relays traffic here (ORPort stays 0)",
    "dirport": "tor never serves a directory here (DirPort stays 0)",
    "bridgerelay": "tor never runs as a bridge here",
    "clientonly": "tor stays a client only",
    "publishserverdescriptor": "tor never publishes a relay descriptor here",
    "extorport": "no pluggable-transport server listener",
}
"""Options that would make tor a relay, an exit or a bridge -> why not."""

WEAKENING = {
    "hiddenservicesinglehopmode": ("0", "single-hop (non-anonymous) hidden services reveal the server"),
    "hiddenservicenonanonymousmode": ("0", "non-anonymous hidden services reveal the server"),
    "datadirectorygroupreadable": ("0", "the hidden service keys stay readable by tor's user only"),
    "cookieauthfilegroupreadable": ("0", "the control cookie stays readable by tor's user only"),
    "controlportfilegroupreadable": ("0", "control files stay readable by tor's user only"),
    "safelogging": ("1", "addresses stay scrubbed from the logs"),
}
"""Options that would weaken privacy or key protection -> (the one safe value, why not another)."""

LISTENERS = {"transport", "natdport", "dnsport", "httptunnelport", "metricsport"}
"""Listeners allowed only on a loopback address."""


def check_extra_line(line: str) -> str:
    """``line`` unchanged when tor may get it as written; ``ValueError`` naming why not."""
    if "\n" in line or "\r" in line:
        raise ValueError("one torrc line per entry: no line breaks")
    if not line.strip() or line.lstrip().startswith("#"):
        return line
    m = _LINE.match(line)
    if m is None:
        raise ValueError(f"{line!r} is not a torrc line (`Option value`)")
    key = m.group("key").lower()
    value = m.group("value") or ""
    if key.startswith("__"):
        raise ValueError(f"{line!r}: options starting with __ are tor's internal ones and would bypass the checks")
    if key.startswith("hiddenservice") and key not in WEAKENING:
        raise ValueError(f"{line!r}: hidden services are declared in config.hiddenServices (each one gets the DoS defences)")
    reason = MANAGED.get(key) or _weakening_reason(key, value) or _relay_reason(key, value) or _listener_reason(key, value)
    if reason:
        raise ValueError(f"{line!r} would undo the hardening: {reason}")
    return line


def _weakening_reason(key: str, value: str) -> str | None:
    if key not in WEAKENING:
        return None
    safe, reason = WEAKENING[key]
    return None if value.strip() == safe else reason


def _relay_reason(key: str, value: str) -> str | None:
    if key not in RELAY:
        return None
    if key in ("orport", "dirport") and value.strip() == "0":
        return None
    if key in ("exitrelay", "bridgerelay", "publishserverdescriptor") and value.strip() == "0":
        return None
    if key == "clientonly" and value.strip() == "1":
        return None
    return RELAY[key]


def _listener_reason(key: str, value: str) -> str | None:
    if key not in LISTENERS:
        return None
    address = value.split()[0] if value.split() else ""
    if address in ("", "0", "auto") or address.isdigit():
        return None  # tor binds a bare port on 127.0.0.1
    host = address.rsplit(":", 1)[0].strip("[]")
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        if host == "localhost":
            return None
    return f"{key} listens on {address}: listeners bind a loopback address only (127.0.0.1)"
