"""A TCP server on 127.0.0.1 for tests, gone (listener, thread and connections) when its ``with`` block ends.

Closing a listening socket does not wake a thread blocked in ``accept()`` on
Linux: the socket keeps listening until the next connection arrives, which
may be another test's, long after this one ended. So the listener is shut
down (which does wake it), the thread joined, and every accepted connection
closed before the block is left.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def tcp_server(*, keep: bool = True, held: list[socket.socket] | None = None) -> Iterator[int]:
    """Accept connections on a free port (yielded): hold them open (``keep``, in ``held`` when given, so the caller
    can count them) or close each at once."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held = [] if held is None else held

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            if keep:
                held.append(conn)
            else:
                conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        try:
            listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        listener.close()
        thread.join(timeout=30)
        for conn in held:
            conn.close()
