"""``--json`` output: the same text whichever encoder writes it."""

from __future__ import annotations

import json
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from omnitron.cli.options import print_json

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text() | st.sampled_from([sys.maxsize * 4, 1e20, 1e-7, float("inf")])
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4) | st.tuples(inner, inner), max_leaves=20)


@settings(max_examples=500, deadline=None)
@given(values)
def test_what_is_printed_is_what_json_prints(data):
    import contextlib
    import io

    import pydantic_core  # noqa: F401  (loaded: the fast encoder is used where it writes the same text)

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        print_json(data)
    assert out.getvalue() == json.dumps(data, indent=2, default=str) + "\n"


def test_control_characters_and_non_ascii_are_escaped_as_json_escapes_them():
    import contextlib
    import io

    import pydantic_core  # noqa: F401

    for data in ({"k\x7f": "\x7f\x00\n\u00e9\U0001f600"}, ["\x1f", "\u2028"]):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            print_json(data)
        assert out.getvalue() == json.dumps(data, indent=2) + "\n"


def test_values_json_cannot_hold_print_as_their_str(capsys, tmp_path):
    print_json({"path": tmp_path, "set": {1}})
    assert json.loads(capsys.readouterr().out) == {"path": str(tmp_path), "set": "{1}"}
