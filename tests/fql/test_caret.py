"""components.fql.caret: the column and a caret under the token a trigger goes wrong at."""

from __future__ import annotations

import pytest

from components.fql import ConditionError, parse_fql
from components.fql.caret import CARET_BREAK, TriggerError, lay_out, with_caret, without_caret


def refusal(fql: str) -> TriggerError:
    with pytest.raises(TriggerError) as caught:
        parse_fql(fql)
    return caught.value


@pytest.mark.parametrize(
    ("fql", "column", "caret"),
    [
        ('type = "track" and evnt = "x"', 20, "                   ^^^^"),
        ('type = "track" && event = "x"', 16, "               ^"),
        ('event = "a" or event = "b" and type = "track"', 28, "                           ^^^"),
        ('properties.total > "100"', 20, "                   ^^^^^"),
        ("type = track", 8, "       ^^^^^"),
        ('type = "track" and event = ', 28, "                           ^"),
        ('!(event = "a")', 1, "^"),
        ('type = "a" and (event = "b" or (event = "c"))', 32, "                               ^"),
        ("event = 'Signed Up'", 9, "        ^^^^^^^^^^^"),
    ],
)
def test_the_column_and_caret_point_at_the_offending_token(
    fql: str, column: int, caret: str
) -> None:
    error = refusal(fql)
    assert error.column == column
    assert f"trigger {fql!r}, column {column}: " in str(error)
    assert error.caret_block() == [fql, caret]


def test_columns_count_the_trigger_as_printed() -> None:
    """A tab is printed as \\t (two characters), an emoji as one: the caret stays under the
    token on the terminal."""
    error = refusal('event = "🎉"\tand evnt = "x"')
    shown, caret = error.caret_block()
    assert shown == 'event = "🎉"\\tand evnt = "x"'
    assert caret.index("^") == shown.index("evnt")
    assert error.column == shown.index("evnt") + 1


def test_problems_without_a_position_carry_no_caret() -> None:
    error = ConditionError("Segment's parser misreads it")
    assert with_caret("key: problem", error) == "key: problem"


def test_lay_out_puts_the_block_under_the_problem() -> None:
    problem = with_caret("key: bad", refusal("type = track"))
    assert CARET_BREAK in problem
    assert lay_out(problem) == "key: bad\n      type = track\n             ^^^^^"
    assert without_caret(problem) == "key: bad"


def test_a_forged_mark_in_text_stays_one_escaped_line() -> None:
    for text in (f"a{CARET_BREAK}b", f"a{CARET_BREAK}b{CARET_BREAK}c\nforged"):
        shown = lay_out(text)
        assert "\n" not in shown and CARET_BREAK not in shown
        assert without_caret(text) == text
