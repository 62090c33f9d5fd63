"""Triggers compiled once into straight-line Python, for evaluating millions of events (backtest).

:func:`compile_fast` turns a trigger AST into the source of ONE Python function whose body is a
single boolean expression: every leaf becomes a few dictionary lookups and a comparison inlined
into ``and``/``or`` chains, with no call per leaf and no per-event dispatch on the operator. Its
verdicts are those of :func:`components.fql.evaluator.compile_trigger` (and so of Segment's
``validate``); tests/fql/test_fidelity_segment.py checks all three agree on random ASTs x events.

How each piece keeps Segment's JavaScript semantics (see evaluator.py for the reference form):

* a path step on a JSON object is ``v.get(key, missing)``, where ``missing`` is the JavaScript
  built-in for ``Object.prototype`` member names (``constructor``) and None otherwise; any other
  value (strings, arrays, numbers, falsy values) goes through the shared ``js_member``;
* ``=``/``!=`` compare with ``==``/``!=`` against the expected string: no JSON value other than a
  string ever equals a string, which is exactly JavaScript's type-strict ``===``;
* numeric operators accept only real numbers (not booleans) and compare them as doubles, like
  JavaScript (an int beyond 2**53 is first rounded to a double);
* text operators require a string, the valueless ones test ``is None``/``is True``/``is False``.

Only ``repr()`` of strings and finite floats is ever written into the source (non-finite numbers
are names in the function's namespace), so a trigger cannot inject code.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from components.fql.evaluator import check_for_evaluation
from components.fql.js import (
    JS_BUILTIN,
    MAX_SAFE_INTEGER,
    OBJECT_MEMBERS,
    UNDEFINED,
    int_to_double,
    js_member,
    js_to_number,
    js_to_string,
)
from components.fql.vocabulary import FIELD_OF_TYPE, NAMED_TYPES, ConditionError, describe

# Python's parser allows at most 200 nested parentheses; a path step nests two levels, so longer
# paths are read by a helper call instead of inline (real paths have a handful of segments).
_MAX_INLINE_STEPS: Final = 40
# Above 2**53 a JavaScript number is a rounded double; below it int/float comparison is exact.
_EXACT: Final = MAX_SAFE_INTEGER + 1

_TEXT_TESTS: Final[Mapping[str, str]] = {
    "contains": "{text} in v",
    "not_contains": "{text} not in v",
    "starts_with": "v.startswith({text})",
    "not_starts_with": "not v.startswith({text})",
    "ends_with": "v.endswith({text})",
    "not_ends_with": "not v.endswith({text})",
}
_NUMERIC_COMPARISONS: Final[Mapping[str, str]] = {
    "number_equals": "==",
    "number_not_equals": "!=",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
}
_VALUELESS_TESTS: Final[Mapping[str, str]] = {
    "exists": "is not None",
    "not_exists": "is None",
    "is_true": "is True",
    "is_false": "is False",
}


@dataclass(frozen=True)
class CompiledTrigger:
    """A trigger as one generated Python function; ``matches(event)`` is ``validate``'s verdict.

    ``matches`` expects a JSON object (a dict or other Mapping), as every event line is.
    """

    source: str
    matches: Callable[[Mapping[str, Any]], bool]


def _get_path(event: Mapping[str, Any], root: str, keys: tuple[str, ...]) -> Any:
    """The long-path fallback: the same steps as the inline form, in a loop."""
    value = event.get(root)
    for key in keys:
        value = value.get(key, _missing(key)) if type(value) is dict else js_member(value, key)
    return value


def _missing(key: str) -> Any:
    """What ``object[key]`` gives in JavaScript for a key the JSON object does not have."""
    return JS_BUILTIN if key in OBJECT_MEMBERS else None


class _Writer:
    """Builds the expression source; constants that have no literal go into ``namespace``."""

    def __init__(self, hoisted: Sequence[str] = ()) -> None:
        # Top-level fields read into locals once per event (several triggers test them).
        self.hoisted = {root: f"_f{index}" for index, root in enumerate(hoisted)}
        self.namespace: dict[str, Any] = {
            "_member": js_member,
            "_builtin": JS_BUILTIN,
            "_double": int_to_double,
            "_get_path": _get_path,
        }

    def constant(self, value: Any) -> str:
        if isinstance(value, str) or (isinstance(value, float) and math.isfinite(value)):
            return repr(value)
        name = f"_k{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def path(self, leaf: Mapping[str, Any]) -> str:
        root = FIELD_OF_TYPE[leaf["type"]]
        expr = self.hoisted.get(root) or f"e.get({root!r})"
        if leaf["type"] not in NAMED_TYPES:
            return expr
        keys = tuple(re.findall(r"[^\[.\]]+", leaf["name"]))
        if len(keys) > _MAX_INLINE_STEPS:
            return f"_get_path(e, {root!r}, {self.constant(keys)})"
        for key in keys:
            missing = ", _builtin" if key in OBJECT_MEMBERS else ""
            expr = (
                f"(v.get({key!r}{missing}) if type(v := {expr}) is dict else _member(v, {key!r}))"
            )
        return expr

    def leaf(self, leaf: Mapping[str, Any]) -> str:
        operator = leaf["operator"]
        expected = leaf.get("value", UNDEFINED)
        path = self.path(leaf)
        if operator in ("=", "!="):
            comparison = "==" if operator == "=" else "!="
            return f"({path} {comparison} {self.constant(js_to_string(expected))})"
        if operator in _TEXT_TESTS:
            test = _TEXT_TESTS[operator].format(text=self.constant(js_to_string(expected)))
            return f"(type(v := {path}) is str and {test})"
        if operator in _NUMERIC_COMPARISONS:
            number = self.constant(js_to_number(expected))
            comparison = _NUMERIC_COMPARISONS[operator]
            # bool is not int here (type() is exact), as Segment ignores booleans for numbers.
            return (
                f"((t := type(v := {path})) is float and v {comparison} {number} or t is int "
                f"and (v if -{_EXACT} <= v <= {_EXACT} else _double(v)) {comparison} {number})"
            )
        return f"({path} {_VALUELESS_TESTS[operator]})"

    def node(self, node: Mapping[str, Any]) -> str:
        if node["type"] != "group":
            return self.leaf(node)
        children = [self.node(child) for child in node["children"]]
        if not children:  # JavaScript's [].every() is true and [].some() is false
            return "True" if node["operator"] == "and" else "False"
        joiner = " and " if node["operator"] == "and" else " or "
        return "(" + joiner.join(children) + ")"


def _leaves(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    if node["type"] == "group":
        for child in node["children"]:
            yield from _leaves(child)
    else:
        yield node


def _check(ast: Mapping[str, Any]) -> None:
    check_for_evaluation(ast, "")
    if ast.get("type") != "group":
        raise ConditionError(f"a trigger must be a group at the top; got {describe(ast)}")


def _define(source: str, writer: _Writer, name: str) -> Callable[..., Any]:
    namespace = dict(writer.namespace)
    try:
        code = compile(source, "<fql trigger>", "exec")
    except (SyntaxError, RecursionError, MemoryError) as exc:
        raise ConditionError(f"the trigger is too deeply nested to compile: {exc}") from None
    exec(code, namespace)  # noqa: S102 - our own generated source; only repr() literals inside
    function: Callable[..., Any] = namespace[name]
    return function


def compile_fast(ast: Mapping[str, Any]) -> CompiledTrigger:
    """Compile ``ast`` once into a generated Python function with ``validate``'s verdicts."""
    _check(ast)
    writer = _Writer()
    source = f"def matches(e):\n    return {writer.node(ast)}\n"
    return CompiledTrigger(source=source, matches=_define(source, writer, "matches"))


@dataclass(frozen=True)
class CompiledSet:
    """Several triggers as ONE generated function: ``hits(event)`` has bit ``i`` set when
    trigger ``i`` matches (one call per event however many triggers a backtest checks)."""

    source: str
    hits: Callable[[Mapping[str, Any]], int]


def compile_many(asts: Sequence[Mapping[str, Any]]) -> CompiledSet:
    """Compile triggers into one function returning the bit mask of those that match."""
    for index, ast in enumerate(asts):
        try:
            _check(ast)
        except ConditionError as exc:
            raise ConditionError(f"trigger {index}: {exc}") from None
    # A field that several triggers read (type, event, properties) is read once per event.
    readers = Counter(
        root for ast in asts for root in {FIELD_OF_TYPE[leaf["type"]] for leaf in _leaves(ast)}
    )
    writer = _Writer(sorted(root for root, count in readers.items() if count > 1))
    lines = ["def hits(e):", "    r = 0"]
    lines += [f"    {name} = e.get({root!r})" for root, name in writer.hoisted.items()]
    for index, ast in enumerate(asts):
        lines += [f"    if {writer.node(ast)}:", f"        r |= {1 << index}"]
    source = "\n".join([*lines, "    return r", ""])
    return CompiledSet(source=source, hits=_define(source, writer, "hits"))
