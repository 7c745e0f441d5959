"""Env templates: ``${host}``, ``${port:NAME}``, ``${secret:NAME}``, ``${alloc:KEY}`` and plugin functions.

Pure code: a template is parsed once and rendered against a
:class:`TemplateContext` holding everything the functions may need. ``$${``
writes a literal ``${``. A placeholder inside the userinfo or the path of a URL
(``postgres://${secret:user}:${secret:pass}@host/${alloc:database}``) is
percent-encoded, so any password still gives a valid URL.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ClassVar
from urllib.parse import quote

from .errors import TemplateError

_PLACEHOLDER = re.compile(r"\$\$\{|\$\{([^}]*)\}")
_FUNC_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_URL_START = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")

MASK = "****"
"""Shown instead of a secret value."""
PENDING = "<pending>"
"""Shown for a value only known once the service runs (an allocated Redis DB index, a recorded fact)."""
_MARKERS = (MASK, PENDING)


@dataclass
class TemplateContext:
    """What template functions may read. Built by the planner or the engine.

    :param secret: resolves a logical secret name to its value; the planner
        passes a masking resolver, the engine the real backend.
    """

    app: str | None
    service: str | None
    host: str = "localhost"
    ports: Mapping[str, int] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    """Logical name -> store key, as declared on the service."""
    secret: Callable[[str], str] = lambda key: MASK
    """Store key -> value."""
    alloc: Mapping[str, str] = field(default_factory=dict)
    plan: Any = None
    """The whole plan (an :class:`omnitron.plan.Plan`, not imported here: the plan module builds contexts), read-only:
    other services' host ports, apps' declared ports; ``None`` outside a plan."""
    facts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Service -> facts its preset recorded once it ran (a hostname); empty when not known yet.

    A function whose value is a fact not recorded yet returns :data:`PENDING`.
    """
    needs: set[str] = field(default_factory=set)
    """Services a rendered value depends on (a function adds the service whose fact it read);
    the planner makes the app use them, so ``omnitron run`` brings them up first."""
    extra: dict[str, object] = field(default_factory=dict)


class TemplateFunction(ABC):
    """A ``${NAME}`` / ``${NAME:ARG}`` template function.

    ``render`` raises :class:`LookupError` or :class:`ValueError` with a short
    message when the argument is not known; the caller adds app, variable and
    template to the error.
    """

    name: ClassVar[str]
    takes_argument: ClassVar[bool | None] = None
    """``True``: requires ``:ARG``; ``False``: forbids it; ``None``: either."""
    secret: ClassVar[bool] = False
    """Output is secret: masked in plans and ``infra env`` unless asked."""
    per_app: ClassVar[bool] = True
    """The value may depend on the app asking (its name, allocations, facts, its own secrets). ``False`` promises it
    depends only on the service's host, ports and declared secrets, so a value rendered for one app is reused for
    the next (see :meth:`Renderer.service_only`)."""

    @abstractmethod
    def render(self, arg: str | None, ctx: TemplateContext) -> str: ...


class HostFunction(TemplateFunction):
    name = "host"
    per_app = False
    takes_argument = False

    def render(self, arg: str | None, ctx: TemplateContext) -> str:
        return ctx.host


class PortFunction(TemplateFunction):
    name = "port"
    per_app = False
    takes_argument = None

    def render(self, arg: str | None, ctx: TemplateContext) -> str:
        if arg is None:
            if len(ctx.ports) == 1:
                return str(next(iter(ctx.ports.values())))
            raise LookupError(f"${{port}} needs a port name: one of {_names(ctx.ports)}")
        if arg not in ctx.ports:
            raise LookupError(f"unknown port {arg!r}; declared: {_names(ctx.ports)}")
        return str(ctx.ports[arg])


class SecretFunction(TemplateFunction):
    name = "secret"
    takes_argument = True
    secret = True
    per_app = False  # reads ctx.secrets: callers reuse a value only where no app-owned secret is bound

    def render(self, arg: str | None, ctx: TemplateContext) -> str:
        """The value of the store key ``secrets`` maps ``arg`` to; of the store key ``arg`` itself when ``secrets``
        does not name it (the spec's ``"SEARCH_API_KEY": "${secret:searchApiKey}"`` with no ``secrets`` block)."""
        assert arg is not None
        return ctx.secret(ctx.secrets.get(arg, arg))


class AllocFunction(TemplateFunction):
    name = "alloc"
    takes_argument = True

    def render(self, arg: str | None, ctx: TemplateContext) -> str:
        assert arg is not None
        if arg not in ctx.alloc:
            raise LookupError(f"nothing allocated under {arg!r} for this app")
        return ctx.alloc[arg]


BUILTIN_FUNCTIONS: tuple[type[TemplateFunction], ...] = (HostFunction, PortFunction, SecretFunction, AllocFunction)


def _names(mapping: Mapping[str, object]) -> str:
    return ", ".join(sorted(mapping)) or "(none)"


@dataclass(frozen=True)
class _Literal:
    text: str


@dataclass(frozen=True)
class _Call:
    func: str
    arg: str | None
    encode: bool
    """Percent-encode the result (userinfo or path of a URL)."""


@lru_cache(maxsize=4096)
def parse(template: str) -> tuple[_Literal | _Call, ...]:
    """Split a template into literals and calls; raises ``ValueError`` on bad syntax.

    Cached: the same templates are rendered for every app and every command.
    """
    parts: list[_Literal | _Call] = []
    pos = 0
    url = bool(_URL_START.match(template))
    for m in _PLACEHOLDER.finditer(template):
        if m.start() > pos:
            parts.append(_Literal(template[pos : m.start()]))
        pos = m.end()
        if m.group(0) == "$${":
            parts.append(_Literal("${"))
            continue
        body = m.group(1).strip()
        func, sep, arg = body.partition(":")
        func = func.strip()
        if not _FUNC_NAME.match(func):
            raise ValueError(f"invalid placeholder ${{{m.group(1)}}}")
        if sep and not arg.strip():
            raise ValueError(f"${{{func}:}} needs an argument after ':'")
        encode = url and _in_userinfo_or_path(template, m.start())
        parts.append(_Call(func, arg.strip() if sep else None, encode))
    rest = template[pos:]
    if "${" in rest:
        raise ValueError("unterminated placeholder '${' (write '$${' for a literal)")
    if rest:
        parts.append(_Literal(rest))
    return tuple(parts)


def _in_userinfo_or_path(template: str, index: int) -> bool:
    scheme_end = template.index("://") + 3
    if index < scheme_end:
        return False
    rest = template[scheme_end:]
    authority_end = len(rest)
    for sep in "/?#":
        # a '/' inside a placeholder is not a separator: search outside placeholders
        i = _find_outside_placeholders(rest, sep)
        if i != -1:
            authority_end = min(authority_end, i)
    offset = index - scheme_end
    if offset >= authority_end:
        return rest[authority_end : authority_end + 1] == "/" and _find_outside_placeholders(rest[:offset], "?") == -1
    at = _find_outside_placeholders(rest[:authority_end], "@", last=True)
    return at != -1 and offset < at


def _find_outside_placeholders(text: str, char: str, *, last: bool = False) -> int:
    depth = 0
    found = -1
    i = 0
    while i < len(text):
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        c = text[i]
        if c == "}" and depth:
            depth -= 1
        elif c == char and not depth:
            if not last:
                return i
            found = i
        i += 1
    return found


class Renderer:
    """Renders templates with a fixed set of functions (each template checked against them once)."""

    def __init__(self, functions: Mapping[str, TemplateFunction]) -> None:
        self.functions = dict(functions)
        self._compiled: dict[str, list[tuple[str, TemplateFunction | None, str | None, bool]] | str] = {}
        self._service_only: dict[str, bool] = {}

    def _compile(self, template: str) -> list[tuple[str, TemplateFunction | None, str | None, bool]] | str:
        """``(literal, None, None, False)`` and ``("", function, argument, encode)`` steps, or the error message."""
        try:
            parts = parse(template)
        except ValueError as exc:
            return str(exc)
        steps: list[tuple[str, TemplateFunction | None, str | None, bool]] = []
        for part in parts:
            if type(part) is _Literal:
                steps.append((part.text, None, None, False))
                continue
            func = self.functions.get(part.func)
            if func is None:
                return f"unknown template function ${{{part.func}}}; known: {', '.join(sorted(self.functions))}"
            if func.takes_argument is True and part.arg is None:
                return f"${{{part.func}}} needs an argument: ${{{part.func}:NAME}}"
            if func.takes_argument is False and part.arg is not None:
                return f"${{{part.func}}} takes no argument"
            steps.append(("", func, part.arg, part.encode))
        return steps

    def service_only(self, template: str) -> bool:
        """Whether ``template`` renders the same for every app using one service with no app-owned secrets or
        allocations (its functions all promise ``per_app = False``); ``False`` for a template that does not compile."""
        known = self._service_only.get(template)
        if known is None:
            steps = self._compiled.get(template)
            if steps is None:
                steps = self._compiled[template] = self._compile(template)
            known = self._service_only[template] = not isinstance(steps, str) and all(func is None or not func.per_app for _, func, _, _ in steps)
        return known

    def render(self, template: str, ctx: TemplateContext, *, variable: str = "?", mask_secrets: bool = False) -> str:
        """Render ``template``; errors name the app, the variable and the template."""
        steps = self._compiled.get(template)
        if steps is None:
            steps = self._compiled[template] = self._compile(template)
        if isinstance(steps, str):
            raise self._fail(ctx, template, variable, steps)
        out: list[str] = []
        for text, func, arg, encode in steps:
            if func is None:
                out.append(text)
                continue
            try:
                value = func.render(arg, ctx)
            except (LookupError, ValueError) as exc:
                msg = exc.args[0] if exc.args else str(exc)
                raise self._fail(ctx, template, variable, str(msg)) from None
            if func.secret and mask_secrets:
                out.append(MASK)
            else:
                out.append(quote(value, safe="") if encode and value not in _MARKERS else value)
        return "".join(out)

    @staticmethod
    def _fail(ctx: TemplateContext, template: str, variable: str, msg: str) -> TemplateError:
        where = f"app {ctx.app}: " if ctx.app else ""
        where += f"service {ctx.service}: " if ctx.service and not ctx.app else ""
        return TemplateError(f"{where}{variable}={template!r}: {msg}")
