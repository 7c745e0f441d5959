"""Just enough of PostgreSQL's wire protocol (v3) for what ``up`` does: connect, authenticate, query, create.

The health probe runs on every ``infra up``, ``infra status`` and ``omnitron
run``, and every ``up`` sets the password of a native server, makes the
databases and extensions and checks they are there. Importing psycopg for
that costs more than the whole exchange (measured: about 0.13 s of CPU, on
the path of every cold start), so they speak the protocol here: a startup
message over TCP or the Unix socket, password authentication (SCRAM-SHA-256,
MD5 or cleartext, as the server asks), then queries with bound parameters
(the extended protocol: no value is ever spliced into SQL) and utility
statements (``CREATE DATABASE``, ``ALTER ROLE``), which take no parameters:
their names go in through :func:`quote_ident` (names the presets' config
already restricts to plain identifiers), a password only as a SCRAM verifier
computed here (:func:`scram_verifier`), so the server never sees it. Backups
and test copies still use psycopg.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from typing import Any


class PgError(Exception):
    """The server refused (an ``ErrorResponse``): ``code`` is its SQLSTATE (``28P01``: wrong password)."""

    def __init__(self, fields: dict[str, str]) -> None:
        self.fields = fields
        self.code = fields.get("C", "")
        super().__init__(fields.get("M", "error") + (f" (SQLSTATE {self.code})" if self.code else ""))


class ProtocolError(ConnectionError):
    """The other side does not speak the protocol as expected (or closed the connection)."""


def _message(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


def _cstr(text: str) -> bytes:
    return text.encode() + b"\0"


class Connection:
    """One authenticated connection (use ``async with``); :meth:`query` runs a statement with text parameters."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.buffer = b""

    async def __aenter__(self) -> "Connection":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self) -> None:
        try:
            await self.stream.send(_message(b"X", b""))
        except Exception:  # closing a connection the server already dropped
            pass
        await self.stream.aclose()

    async def _read(self, n: int) -> bytes:
        import anyio

        while len(self.buffer) < n:
            try:
                self.buffer += await self.stream.receive(65536)
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                raise ProtocolError("the server closed the connection") from None
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    async def receive(self) -> tuple[bytes, bytes]:
        """The next message: its type byte and body. An ``ErrorResponse`` raises :class:`PgError`."""
        header = await self._read(5)
        kind, length = header[:1], struct.unpack("!i", header[1:])[0]
        if length < 4 or length > 1 << 24:
            raise ProtocolError(f"not a PostgreSQL server (message {kind!r} of length {length})")
        body = await self._read(length - 4)
        if kind == b"E":
            raise PgError(_fields(body))
        return kind, body

    async def query(self, sql: str, *params: str) -> list[tuple[str | None, ...]]:
        """Run ``sql`` (``$1``, ``$2`` ... bound to ``params`` as text) and return its rows as text."""
        encoded = [p.encode() for p in params]
        bind = b"\0\0" + struct.pack("!hh", 0, len(encoded)) + b"".join(struct.pack("!i", len(p)) + p for p in encoded) + struct.pack("!h", 0)
        await self.stream.send(
            _message(b"P", b"\0" + _cstr(sql) + struct.pack("!h", 0))
            + _message(b"B", bind)
            + _message(b"E", b"\0" + struct.pack("!i", 0))
            + _message(b"S", b"")
        )
        rows: list[tuple[str | None, ...]] = []
        failure: PgError | None = None
        while True:
            try:
                kind, body = await self.receive()
            except PgError as exc:
                failure = exc  # the server still sends ReadyForQuery after an error
                continue
            if kind == b"D":
                rows.append(_row(body))
            elif kind == b"Z":
                break
        if failure is not None:
            raise failure
        return rows

    async def execute(self, sql: str) -> None:
        """Run one statement that takes no parameters (``CREATE DATABASE``, which a transaction block refuses).

        Build ``sql`` with :func:`quote_ident` and :func:`quote_literal` only.
        """
        if "\0" in sql:
            raise ValueError("a statement cannot hold a NUL character")
        await self.stream.send(_message(b"Q", _cstr(sql)))
        failure: PgError | None = None
        while True:
            try:
                kind, _ = await self.receive()
            except PgError as exc:
                failure = exc
                continue
            if kind == b"Z":
                break
        if failure is not None:
            raise failure


def quote_ident(name: str) -> str:
    """``name`` as a quoted SQL identifier (``"a""b"``), as PostgreSQL's ``quote_ident`` makes it."""
    if "\0" in name:
        raise ValueError("an identifier cannot hold a NUL character")
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """``text`` as an SQL string literal, as PostgreSQL's ``quote_literal`` makes it (``E'...'`` when it holds a backslash)."""
    if "\0" in text:
        raise ValueError("a string literal cannot hold a NUL character")
    quoted = "'" + text.replace("'", "''") + "'"
    return "E" + quoted.replace("\\", "\\\\") if "\\" in text else quoted


SCRAM_ITERATIONS = 4096
"""What libpq and the server use by default."""


def scram_verifier(password: str, *, salt: bytes | None = None, iterations: int = SCRAM_ITERATIONS) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password`` (``SCRAM-SHA-256$<i>:<salt>$<StoredKey>:<ServerKey>``),
    as libpq's ``PQencryptPasswordConn`` computes it: ``ALTER ROLE ... PASSWORD`` with it never shows the password to the server."""
    salt = secrets.token_bytes(16) if salt is None else salt
    salted = _salted(saslprep(password).encode(), salt, iterations)
    stored_key = hashlib.sha256(hmac.digest(salted, b"Client Key", "sha256")).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")
    b64 = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def _fields(body: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in body.split(b"\0"):
        if part:
            out[chr(part[0])] = part[1:].decode(errors="replace")
    return out


def _row(body: bytes) -> tuple[str | None, ...]:
    count = struct.unpack("!h", body[:2])[0]
    pos, values = 2, []
    for _ in range(count):
        size = struct.unpack("!i", body[pos : pos + 4])[0]
        pos += 4
        if size < 0:
            values.append(None)
        else:
            values.append(body[pos : pos + size].decode())
            pos += size
    return tuple(values)


async def connect(host: str, port: int, *, user: str, password: str | None, dbname: str, timeout: float = 10.0) -> Connection:
    """An authenticated connection, ready for queries; ``host`` a directory (``/run/...``) is the server's Unix socket
    there, as for libpq.

    :raises PgError: the server refused (wrong password: SQLSTATE ``28P01``; no such database: ``3D000``).
    :raises OSError: nothing accepts connections there (``TimeoutError`` when the exchange takes longer than ``timeout``).
    """
    import anyio

    with anyio.fail_after(timeout):
        if host.startswith("/"):
            stream = await anyio.connect_unix(f"{host}/.s.PGSQL.{port}")
        else:
            stream = await anyio.connect_tcp(host, port)
        conn = Connection(stream)
        try:
            body = struct.pack("!i", 196608) + _cstr("user") + _cstr(user) + _cstr("database") + _cstr(dbname) + b"\0"
            await stream.send(struct.pack("!i", len(body) + 4) + body)
            await _authenticate(conn, user, password or "")
            while (await conn.receive())[0] != b"Z":  # ParameterStatus, BackendKeyData ... until ReadyForQuery
                pass
        except BaseException:
            await stream.aclose()
            raise
    return conn


async def _authenticate(conn: Connection, user: str, password: str) -> None:
    scram: _Scram | None = None
    while True:
        kind, body = await conn.receive()
        if kind != b"R":
            raise ProtocolError(f"unexpected message {kind!r} during authentication")
        code = struct.unpack("!i", body[:4])[0]
        if code == 0:  # AuthenticationOk
            return
        if code == 3:  # cleartext
            await conn.stream.send(_message(b"p", _cstr(password)))
        elif code == 5:  # MD5, salted
            inner = hashlib.md5((password + user).encode()).hexdigest()
            await conn.stream.send(_message(b"p", _cstr("md5" + hashlib.md5(inner.encode() + body[4:8]).hexdigest())))
        elif code == 10:  # SASL: the mechanisms the server offers
            if b"SCRAM-SHA-256\0" not in body[4:]:
                raise ProtocolError("the server offers no SASL mechanism this client speaks (SCRAM-SHA-256)")
            scram = _Scram(password)
            first = scram.client_first.encode()
            await conn.stream.send(_message(b"p", _cstr("SCRAM-SHA-256") + struct.pack("!i", len(first)) + first))
        elif code == 11 and scram is not None:  # SASLContinue
            await conn.stream.send(_message(b"p", scram.client_final(body[4:].decode()).encode()))
        elif code == 12 and scram is not None:  # SASLFinal
            scram.verify(body[4:].decode())
        else:
            raise ProtocolError(f"authentication method {code} is not supported")


def saslprep(password: str) -> str:
    """``password`` prepared as libpq prepares it for SCRAM (SASLprep, RFC 4013); unchanged when it cannot be (as libpq does)."""
    if password.isascii():
        return password
    import stringprep
    import unicodedata

    mapped = "".join(" " if stringprep.in_table_c12(c) else c for c in password if not stringprep.in_table_b1(c))
    prepared = unicodedata.normalize("NFKC", mapped)
    prohibited = (
        stringprep.in_table_c12, stringprep.in_table_c21_c22, stringprep.in_table_c3, stringprep.in_table_c4, stringprep.in_table_c5,
        stringprep.in_table_c6, stringprep.in_table_c7, stringprep.in_table_c8, stringprep.in_table_c9, stringprep.in_table_a1,
    )
    if any(check(c) for c in prepared for check in prohibited):
        return password
    if any(stringprep.in_table_d1(c) for c in prepared):  # right-to-left text must start and end so, with no left-to-right inside
        if not (stringprep.in_table_d1(prepared[0]) and stringprep.in_table_d1(prepared[-1])) or any(stringprep.in_table_d2(c) for c in prepared):
            return password
    return prepared


_SALTED: dict[tuple[bytes, bytes, int], bytes] = {}
"""SCRAM's salted passwords by (password, salt, iterations), kept in this process only: every connection to one
server shares them, so the 4096 rounds of PBKDF2 run once per password, not once per connection."""


def _salted(password: bytes, salt: bytes, iterations: int) -> bytes:
    key = (password, salt, iterations)
    if key not in _SALTED:
        if len(_SALTED) >= 64:  # a daemon meets few servers and passwords; never grow without bound
            _SALTED.clear()
        _SALTED[key] = hashlib.pbkdf2_hmac("sha256", password, salt, iterations)
    return _SALTED[key]


class _Scram:
    """SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL uses it: the user name is the startup message's."""

    def __init__(self, password: str) -> None:
        self.password = saslprep(password).encode()
        self.nonce = base64.b64encode(secrets.token_bytes(18)).decode()
        self.first_bare = f"n=,r={self.nonce}"
        self.client_first = "n,," + self.first_bare
        self.server_signature = b""

    def client_final(self, server_first: str) -> str:
        attrs = dict(part.split("=", 1) for part in server_first.split(","))
        if not attrs.get("r", "").startswith(self.nonce):
            raise ProtocolError("SCRAM: the server's nonce does not extend ours")
        salted = _salted(self.password, base64.b64decode(attrs["s"]), int(attrs["i"]))
        client_key = hmac.digest(salted, b"Client Key", "sha256")
        without_proof = f"c=biws,r={attrs['r']}"
        auth_message = f"{self.first_bare},{server_first},{without_proof}".encode()
        signature = hmac.digest(hashlib.sha256(client_key).digest(), auth_message, "sha256")
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        self.server_signature = hmac.digest(hmac.digest(salted, b"Server Key", "sha256"), auth_message, "sha256")
        return f"{without_proof},p={base64.b64encode(proof).decode()}"

    def verify(self, server_final: str) -> None:
        attrs = dict(part.split("=", 1) for part in server_final.split(","))
        if not hmac.compare_digest(base64.b64decode(attrs.get("v", "")), self.server_signature):
            raise ProtocolError("SCRAM: the server's signature is wrong (not the server that holds this password)")
