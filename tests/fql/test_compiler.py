"""components.fql.compiler: triggers as generated straight-line Python (verdicts: fidelity tests)."""

from __future__ import annotations

import re

import pytest

import components.fql as c
from components.fql.compiler import compile_fast
from tests.fql.support import group, prop


def test_a_trigger_becomes_one_expression_without_calls_per_leaf() -> None:
    ast = c.parse_fql('type = "track" and event = "Order Completed" and properties.total > 100')
    compiled = compile_fast(ast)
    assert compiled.source.count("\n") == 2  # def + one return line: straight-line
    assert "_member(" in compiled.source  # only on the non-object path of a step
    event = {"type": "track", "event": "Order Completed", "properties": {"total": 150}}
    assert compiled.matches(event) is True
    assert compiled.matches({**event, "properties": {"total": "150"}}) is False


@pytest.mark.parametrize(
    "text",
    ["'); import os; os.system('x') #", '")\n__import__("os")', "\\", "{e}", "\x00\u2028"],
)
def test_values_cannot_inject_code(text: str) -> None:
    key = re.sub(r"[.\[\]]", "", text)  # a name is a path: . [ ] separate its keys
    ast = group(prop("plan", "=", text), prop(key, "exists"), operator="or")
    compiled = compile_fast(ast)
    assert compiled.matches({"properties": {"plan": text}}) is True
    assert compiled.matches({"properties": {key: 0}}) is True
    assert compiled.matches({"properties": {"plan": "other"}}) is False


def test_long_paths_and_non_finite_operands_compile() -> None:
    name = ".".join(f"k{i}" for i in range(120))
    nested: object = 7
    for i in reversed(range(120)):
        nested = {f"k{i}": nested}
    ast = group(prop(name, ">", float("-inf")), prop("x", "<", "abc"), operator="or")
    compiled = compile_fast(ast)
    assert compiled.matches({"properties": nested}) is True
    assert compiled.matches({"properties": {"x": 1}}) is False  # Number("abc") is NaN


def test_empty_groups_follow_every_and_some() -> None:
    assert compile_fast(group()).matches({}) is True
    assert compile_fast(group(operator="or")).matches({}) is False


def test_refuses_what_the_evaluator_refuses_naming_the_path() -> None:
    with pytest.raises(c.ConditionError, match=r"^children\[1\]: unknown operator 'in'"):
        compile_fast(group(prop("a", "exists"), {"type": "event", "operator": "in", "value": 1}))
