"""Console output without rich when nobody sees colours: stdout is a pipe or a file (CI logs, scripts).

:class:`PlainConsole` prints console markup (``[bold]ready[/bold]``) as rich
prints it to a file, without loading rich: the tags are dropped, escaped
brackets kept. Anything it cannot print exactly as rich would (a table, an
emoji code, a tab, a markup error) goes to a real rich console, made then.
"""

from __future__ import annotations

import re
import sys
from typing import Any

_TAGS = re.compile(r"((\\*)\[([a-z#/@][^[]*?)])")
"""rich's own pattern of a markup tag (``rich.markup.RE_TAGS``)."""
_EMOJI = re.compile(r":\S+?:")


def escape(text: str) -> str:
    """``text`` (an error, a probe's detail, a value) as markup that prints it verbatim (``rich.markup.escape``).

    Without it, a bracketed word in a message (``omnitron-minio[embedded]``, a path ``/[admin]``) is taken for a tag and dropped.
    For text that no tag follows (rich's own escape also doubles a trailing backslash, which then prints twice).
    """
    return _TAGS.sub(lambda m: f"{m.group(2)}{m.group(2)}\\{m.group(1)[len(m.group(2)) :]}", text)


def plain_text(markup: str) -> str | None:
    """``markup`` as rich prints it without styles, or ``None`` when only rich can tell.

    Left to rich: emoji codes, tabs and control characters, ``@`` (meta) tags,
    and a closing tag that matches no open one (rich raises a markup error).
    """
    if _EMOJI.search(markup) or any(c < " " and c != "\n" for c in markup):
        return None
    out: list[str] = []
    open_tags: list[str] = []
    for text, tag in _parse(markup):
        if text is not None:
            out.append(text.replace("\\[", "["))
            continue
        name = tag.partition("=")[0]
        if name.startswith("@"):
            return None
        if not name.startswith("/"):
            open_tags.append(name.strip().lower())
            continue
        closing = name[1:].strip().lower()
        if not closing and open_tags:
            open_tags.pop()
        elif closing and closing in open_tags:
            del open_tags[len(open_tags) - 1 - open_tags[::-1].index(closing)]
        else:
            return None  # rich raises a MarkupError: let it
    return "".join(out)


def _parse(markup: str) -> list[tuple[str | None, str | None]]:
    """``(text, None)`` and ``(None, tag)`` pieces, as ``rich.markup._parse`` splits markup."""
    pieces: list[tuple[str | None, str | None]] = []
    position = 0
    for match in _TAGS.finditer(markup):
        full, escapes, tag = match.groups()
        start, end = match.span()
        if start > position:
            pieces.append((markup[position:start], None))
        position = end
        if escapes:
            backslashes, escaped = divmod(len(escapes), 2)
            if backslashes:
                pieces.append(("\\" * backslashes, None))
            if escaped:
                pieces.append((full[len(escapes) :], None))
                continue
        pieces.append((None, tag))
    if position < len(markup):
        pieces.append((markup[position:], None))
    return pieces


class PlainConsole:
    """What the commands use of a rich console, for output nobody sees in colour (see the module)."""

    def __init__(self, stderr: bool = False) -> None:
        self.stderr = stderr
        self._rich: Any = None

    def _real(self) -> Any:
        if self._rich is None:
            self._rich = rich_console(self.stderr)
        return self._rich

    def print(self, *objects: Any, sep: str = " ", end: str = "\n", **options: Any) -> None:
        texts = [plain_text(o) if isinstance(o, str) else None for o in objects]
        if any(t is None for t in texts) or set(options) - {"soft_wrap", "highlight", "markup"} or options.get("markup") is False:
            self._real().print(*objects, sep=sep, end=end, **options)
            return
        stream = sys.stderr if self.stderr else sys.stdout
        stream.write(sep.join(t or "" for t in texts) + end)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real(), name)


def rich_console(stderr: bool = False) -> Any:
    """A rich console on stdout (or stderr), wide when not a terminal."""
    import shutil

    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else max(160, shutil.get_terminal_size((160, 24)).columns)
    return Console(stderr=stderr, highlight=False, soft_wrap=False, width=width)
