"""Secrets rendered as tokens, and the tokens found again in what was made from them.

What omnitron keeps on disk to answer a later command quickly (an app's env
in the plan cache, the recipe of a head start) is rendered once with a
:class:`SecretTokens` in place of the secret store: each ``${secret:KEY}``
becomes a token that is unlikely to occur anywhere else. :meth:`SecretTokens.split`
then cuts each rendered text at the tokens into *parts*: plain text, and
``{"secret": KEY, "quote": bool}`` where the secret goes (``quote``: URL-quoted,
as a connection URL holds it). :func:`join` puts the secrets back from the
store when the text is needed. No secret value is read on the way there.
"""

from __future__ import annotations

import os
from urllib.parse import quote

TYPE_CHECKING = False  # the typing module costs import time on the fast path
if TYPE_CHECKING:
    import re
    from typing import Any

PARTS_KEY = "omnitron.secretParts"
"""How :meth:`SecretTokens.encode` marks a text that holds secrets in a JSON document: ``{PARTS_KEY: parts}``."""


class SecretTokens:
    """Hands out a token per secret key (:meth:`reference`, the ``secret`` function of a render) and finds them again."""

    def __init__(self) -> None:
        self._nonce = os.urandom(8).hex()
        self.tokens: dict[str, str] = {}
        """Key -> its token."""
        self.asked: dict[str, int] = {}
        """Key -> how often the render asked for it."""
        self._pattern: re.Pattern[str] | None = None
        self._forms: dict[str, str] = {}

    def reference(self, key: str) -> str:
        """The token of ``key`` (no secret is read)."""
        self.asked[key] = self.asked.get(key, 0) + 1
        self._pattern = None
        return self.tokens.setdefault(key, f"OMNITRONSECRET{self._nonce}N{len(self.tokens)}END/:@")

    def split(self, text: str, seen: dict[str, int]) -> list[Any]:
        """``text`` as parts; each secret found is counted in ``seen`` (key -> occurrences)."""
        if self._pattern is None:
            import re

            self._forms = {token: key for key, token in self.tokens.items()} | {quote(token, safe=""): key for key, token in self.tokens.items()}
            self._pattern = re.compile("(" + "|".join(re.escape(t) for t in sorted(self._forms, key=len, reverse=True)) + ")") if self._forms else None
        pieces = self._pattern.split(text) if self._pattern is not None else [text]
        parts: list[Any] = []
        for i, piece in enumerate(pieces):
            if i % 2 == 0:
                if piece:
                    parts.append(piece)
                continue
            key = self._forms[piece]
            seen[key] = seen.get(key, 0) + 1
            parts.append({"secret": key, "quote": piece not in self.tokens.values()})
        return parts

    def encode(self, doc: Any) -> Any:
        """``doc`` (JSON data) with every string that holds a token replaced by ``{PARTS_KEY: parts}``; ``None`` when a
        secret the render asked for is not found as its token (a template function transformed it: what the document
        would need cannot be rebuilt from the store), or when a token is left that is not one of these."""
        seen: dict[str, int] = {}

        def walk(value: Any) -> Any:
            if isinstance(value, str):
                parts = self.split(value, seen)
                return value if all(isinstance(p, str) for p in parts) else {PARTS_KEY: parts}
            if isinstance(value, list):
                return [walk(v) for v in value]
            if isinstance(value, dict):
                return {k: walk(v) for k, v in value.items()}
            return value

        out = walk(doc)
        if set(seen) != set(self.asked) or "OMNITRONSECRET" in _plain_text(out):
            return None
        return out


def _plain_text(doc: Any) -> str:
    """Every plain string of an encoded document, joined (for a last look for tokens)."""
    if isinstance(doc, str):
        return doc
    if isinstance(doc, list):
        return "\0".join(_plain_text(v) for v in doc)
    if isinstance(doc, dict):
        if PARTS_KEY in doc:
            return "\0".join(p for p in doc[PARTS_KEY] if isinstance(p, str))
        return "\0".join(_plain_text(v) for v in doc.values())
    return ""


def wanted(doc: Any) -> set[str]:
    """The secret keys an encoded document (:meth:`SecretTokens.encode`) needs."""
    if isinstance(doc, list):
        return set().union(*(wanted(v) for v in doc)) if doc else set()
    if isinstance(doc, dict):
        if PARTS_KEY in doc:
            return {p["secret"] for p in doc[PARTS_KEY] if isinstance(p, dict)}
        return set().union(*(wanted(v) for v in doc.values())) if doc else set()
    return set()


def join(parts: list[Any], values: dict[str, str]) -> str:
    """The text of ``parts`` with each secret taken from ``values`` (key -> value)."""
    return "".join(p if isinstance(p, str) else quote(values[p["secret"]], safe="") if p["quote"] else values[p["secret"]] for p in parts)


def decode(doc: Any, values: dict[str, str]) -> Any:
    """An encoded document with its secrets put back from ``values``."""
    if isinstance(doc, list):
        return [decode(v, values) for v in doc]
    if isinstance(doc, dict):
        if PARTS_KEY in doc:
            return join(doc[PARTS_KEY], values)
        return {k: decode(v, values) for k, v in doc.items()}
    return doc
