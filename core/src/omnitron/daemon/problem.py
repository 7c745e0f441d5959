"""An API request the daemon cannot serve: a status and one line (what :mod:`.api` answers as ``{"error": ...}``)."""

from __future__ import annotations


class Problem(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
