"""Plain console output (stdout not a terminal) is what rich prints to a file, without loading rich."""

from __future__ import annotations

import io

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from omnitron.cli.options import console
from omnitron.cli.plain import PlainConsole, escape, plain_text


def rich_prints(markup: str) -> str | None:
    from rich.console import Console
    from rich.errors import MarkupError

    out = io.StringIO()
    try:
        Console(file=out, highlight=False, width=10_000).print(markup)
    except MarkupError:
        return None
    return out.getvalue()[:-1]


def test_known_markup_prints_as_rich_prints_it():
    for markup in ("[bold]x[/bold] y", "[bold red]failed:[/bold red] boom", "[yellow]w[/] z", "x \\[bold] y", "x \\\\[bold]y[/bold]", "[Errno 111] refused", "a [link=http://x]l[/link]"):
        assert plain_text(markup) == rich_prints(markup), markup


def test_what_only_rich_can_tell_is_left_to_rich():
    assert plain_text("unmatched [/bold] x") is None  # rich raises a markup error
    assert plain_text("smile :smile:") is None  # an emoji code
    assert plain_text("a\tb") is None


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="[]/\\ab =:#@R.x", max_size=30))
def test_any_text_prints_as_rich_prints_it_or_is_left_to_rich(markup):
    plain = plain_text(markup)
    if plain is not None:
        assert plain == rich_prints(markup)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="[]/\\ab =#@R.x", max_size=30))
def test_escaped_text_prints_verbatim_in_both_consoles(text):
    assume("\\[" not in text)  # a backslash before a bracket: rich drops it even from its own escape's output
    assert rich_prints(escape(text)) == text
    assert plain_text(escape(text)) in (text, None)


def test_a_pipe_gets_the_plain_console_and_tables_still_print(capsys, monkeypatch):
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    out = console()
    assert isinstance(out, PlainConsole)
    out.print("[green]ready:[/green] 2 services")
    from rich.table import Table

    table = Table(title="t")
    table.add_column("service")
    table.add_row("db")
    out.print(table)
    printed = capsys.readouterr().out
    assert printed.startswith("ready: 2 services\n") and "db" in printed
