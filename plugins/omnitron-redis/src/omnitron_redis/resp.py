"""Just enough of the Redis protocol (RESP) to tell that a client can connect, authenticate and use a DB index.

The health probe and the DB-index check run on every ``infra up``, ``infra
status`` and ``omnitron run``; importing ``redis.asyncio`` for them costs more
than the whole exchange (measured: about 65 ms of a 0.5 s no-op ``up``). This
sends the same commands a client sends when it opens a connection from a
``REDIS_URL`` (``AUTH``, ``SELECT``) and then ``PING``, over a plain TCP
stream, and reads the server's replies.
"""

from __future__ import annotations

from typing import Any


class RedisReplyError(Exception):
    """The server answered a command with an error (``-ERR ...``, ``-WRONGPASS ...``)."""

    command: str = ""
    """The command it refused (``AUTH``, ``SELECT``, ``PING``)."""


def command(*args: str | int) -> bytes:
    """One command as a RESP array of bulk strings."""
    out = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


class _Reader:
    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.buffer = b""

    async def line(self) -> bytes:
        import anyio

        while b"\r\n" not in self.buffer:
            try:
                self.buffer += await self.stream.receive(4096)
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                raise ConnectionResetError("the server closed the connection") from None
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line

    async def reply(self) -> str:
        """The next simple reply (``+OK``, ``+PONG``) as text; an error reply raises :class:`RedisReplyError`."""
        line = await self.line()
        kind, body = line[:1], line[1:].decode(errors="replace")
        if kind == b"-":
            raise RedisReplyError(body)
        if kind in (b"+", b":"):
            return body
        raise RedisReplyError(f"unexpected reply {line[:40]!r}")


async def ping(host: str, port: int, *, password: str | None, db: int = 0, timeout: float = 10.0, username: str | None = None) -> str:
    """``AUTH`` (when there is a password), ``SELECT db`` (when not 0), then ``PING``.

    :returns: the server's answer to ``PING`` (``PONG``).
    :raises RedisReplyError: a command was refused (a wrong password, a DB index the server does not have).
    :raises OSError: nothing accepts connections there (``TimeoutError`` when it does not answer in time).
    """
    import anyio

    with anyio.fail_after(timeout):
        stream = await anyio.connect_tcp(host, port)
        async with stream:
            reader = _Reader(stream)
            commands: list[tuple[str, bytes]] = []
            if password:
                commands.append(("AUTH", command("AUTH", username, password) if username else command("AUTH", password)))
            if db:
                commands.append(("SELECT", command("SELECT", db)))
            commands.append(("PING", command("PING")))
            await stream.send(b"".join(data for _, data in commands))  # pipelined: one round trip
            replies = []
            failure: RedisReplyError | None = None
            for name, _ in commands:
                try:
                    replies.append(await reader.reply())
                except RedisReplyError as exc:
                    exc.command = name
                    failure = failure or exc  # read every reply, report the first refusal
            if failure is not None:
                raise failure
            return replies[-1]
