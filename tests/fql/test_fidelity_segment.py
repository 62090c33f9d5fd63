"""components.fql against Segment's own @segment/destination-subscriptions 3.37.0 (Node).

Each test sends ONE batch to tests/node/oracle.js. Without node_modules the tests skip (fail
when CI is set). The generated cases are drawn from a fixed seed, so every run checks the same
cases and a disagreement is reproducible.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import orjson
import pytest

import components.fql as c
from components.fql.checks import same_ast
from components.fql.compiler import compile_fast, compile_many
from components.fql.segment_generator import segment_generate
from components.fql.segment_parser import SegmentParseError, segment_parse
from tests.node.oracle_client import as_json, run_oracle

FIXTURE = json.loads(
    (Path(__file__).parent.parent / "fixtures" / "conditions" / "segment_cases.json").read_text()
)
SEED = 20240611
GENERATED_ASTS = 6000

NAMES = [
    "price",
    "plan",
    "a.b",
    "page.path",
    "foo.bar.baz alp.zaz",
    "property 1",
    "x_y-z",
    "_id",
    "constructor",
    "length",
    "name.length",
    "items.0",
    "a..b",
    "a[0]",
    "1a",
    "-a",
    "and",
    "null",
    "or.x",
    "é",
    "a\\b",
    "a$b",
    "😀",
    "",
    ".",
    "toString",
]
STRINGS = [
    "track",
    "identify",
    "page",
    "Signed Up",
    "SA",
    "Nike",
    "",
    "a*b",
    "*",
    "a?",
    "[x]",
    "a\\b",
    'say "hi"',
    "true",
    "5",
    "null",
    "x)",
    "(y",
    "é😀",
    "  ",
    "and",
    "a,b",
    "'q'",
    "Order Completed",
]
NUMBERS: list[Any] = [0, 1, -5, 1.5, 100, 1e21, 1e-7, 2**53 + 1, 456, "456.0", 0.1, -0.0]
TYPES = list(c.LEAF_TYPES)


def _value_for(rng: random.Random, operator: str) -> Any:
    roll = rng.random()
    if operator in c.NUMERIC_OPERATORS and roll < 0.8:
        return rng.choice(NUMBERS)
    if roll < 0.8:
        return rng.choice(STRINGS)
    return rng.choice([True, False, None, 7, "x"])


def _leaf(rng: random.Random) -> dict[str, Any]:
    leaf_type = rng.choice(TYPES)
    # Mostly operators Segment reads back for the type; sometimes any of the 18.
    pool = c.ALLOWED_OPERATORS[leaf_type] if rng.random() < 0.85 else c.OPERATORS
    operator = rng.choice(pool)
    leaf: dict[str, Any] = {"type": leaf_type, "operator": operator}
    if leaf_type in c.NAMED_TYPES:
        leaf["name"] = rng.choice(NAMES[:12]) if rng.random() < 0.7 else rng.choice(NAMES)
    if operator not in c.VALUELESS_OPERATORS:
        leaf["value"] = _value_for(rng, operator)
    return leaf


def _group(rng: random.Random, depth: int) -> dict[str, Any]:
    size = rng.choice([1, 1, 2, 2, 3, 4]) if depth == 0 else rng.choice([1, 2, 2, 3])
    children = [
        _group(rng, depth + 1) if depth < 2 and rng.random() < 0.2 else _leaf(rng)
        for _ in range(size)
    ]
    return {"type": "group", "operator": rng.choice(["and", "or"]), "children": children}


def _scalar(rng: random.Random) -> Any:
    return rng.choice(
        [
            None,
            True,
            False,
            0,
            5,
            100,
            150,
            1.5,
            -5,
            "5",
            "true",
            "track",
            "Signed Up",
            "SA-1",
            "Nike Air",
            "",
            "XNike",
            "456",
            "é😀",
            [],
            [1, 2],
            {},
        ]
    )


def _event(rng: random.Random) -> dict[str, Any]:
    def obj(depth: int) -> dict[str, Any]:
        keys = [
            "price",
            "plan",
            "a",
            "b",
            "page",
            "path",
            "foo",
            "bar",
            "items",
            "name",
            "x_y-z",
            "_id",
            "property 1",
            "0",
            "é",
            "😀",
            "length",
            "constructor",
        ]
        result: dict[str, Any] = {}
        for key in rng.sample(keys, rng.randint(0, 5)):
            if depth < 2 and rng.random() < 0.3:
                result[key] = (
                    obj(depth + 1) if rng.random() < 0.7 else [obj(depth + 1), _scalar(rng)]
                )
            else:
                result[key] = _scalar(rng)
        return result

    event: dict[str, Any] = {}
    for key, options in {
        "type": ["track", "identify", "page", 5, None],
        "event": ["Signed Up", "Order Completed", "SA", "Nike Air", "5", "", 5],
        "name": ["Home", "Pricing", None, "5"],
        "userId": ["SA-1", "u-2", None, True, 5],
    }.items():
        if rng.random() < 0.8:
            event[key] = rng.choice(options)
    for key in ("properties", "traits", "context"):
        roll = rng.random()
        if roll < 0.8:
            event[key] = obj(0)
        elif roll < 0.9:
            event[key] = _scalar(rng)
    return event


def _generated() -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:
    rng = random.Random(SEED)
    asts = [_group(rng, 0) for _ in range(GENERATED_ASTS)]
    events = [[_event(rng) for _ in range(4)] for _ in asts]
    return asts, events


def _ours(function: Any, *args: Any) -> dict[str, Any]:
    try:
        return {"ok": as_json(function(*args))}
    except c.ConditionError as exc:
        return {"error": str(exc)}


def _port_parse(text: str) -> dict[str, Any]:
    try:
        return {"ok": as_json(segment_parse(text))}
    except SegmentParseError:
        return {"error": True}


def test_published_round_trips_match_segment() -> None:
    """Segment's own round-trip cases: parse_fql gives parseFql's AST and generate_fql the same text."""
    texts = FIXTURE["round_trip_fql"]
    results = run_oracle([{"op": "parse", "fql": text} for text in texts])
    for text, result in zip(texts, results, strict=True):
        ours = c.parse_fql(text)
        assert as_json(ours) == result["ok"], text
        assert c.generate_fql(ours) == text


def test_published_asts_generate_segment_text() -> None:
    """Segment's generate-fql cases: same text, or a ConditionError only where Segment does not read it back."""
    asts = FIXTURE["generate_asts"]
    results = run_oracle([{"op": "generate", "ast": ast} for ast in asts])
    read_back = run_oracle([{"op": "parse", "fql": r["ok"]} for r in results])
    rejected = []
    for ast, text, back in zip(asts, results, read_back, strict=True):
        assert segment_generate(ast) == text["ok"]
        try:
            assert c.generate_fql(ast) == text["ok"]
        except c.ConditionError:
            rejected.append(ast)
            assert back["ok"] != ast
    # Only Segment's own "456.0" case is not read back identically, and it is accepted by value.
    assert rejected == []


def test_segment_errors_and_misreadings_are_rejected() -> None:
    """Every string Segment rejects or misreads raises ConditionError, and Segment really misreads it."""
    texts = FIXTURE["parse_errors"] + FIXTURE["misread_fql"]
    segment = run_oracle([{"op": "parse", "fql": text} for text in texts])
    for text, result in zip(texts, segment, strict=True):
        ours = _ours(c.parse_fql, text)
        assert "error" in ours, text
        port = _port_parse(text)
        if "error" in result:
            assert "error" in port, text
        else:
            # Segment returns an AST: show that it is not what the text means.
            assert port == {"ok": result["ok"]}, text


def test_segment_parser_port_matches_on_generated_text() -> None:
    """The parseFql/generateFql ports agree with Segment on 6,000 generated ASTs (safe and unsafe)."""
    asts, _ = _generated()
    cases: list[dict[str, Any]] = []
    texts = []
    for ast in asts:
        text = segment_generate(ast)
        texts.append(text)
        cases += [{"op": "generate", "ast": ast}, {"op": "parse", "fql": text}]
    results = run_oracle(cases)
    accepted = 0
    for index, (ast, text) in enumerate(zip(asts, texts, strict=True)):
        generated, parsed = results[2 * index], results[2 * index + 1]
        assert generated == {"ok": text}, ast
        port = _port_parse(text)
        assert ("error" in port) == ("error" in parsed), text
        if "ok" in parsed:
            assert port["ok"] == parsed["ok"], text
        ours = _ours(c.generate_fql, ast)
        if "ok" in ours:
            accepted += 1
            assert ours["ok"] == text
            assert same_ast(parsed["ok"], ast), (text, parsed["ok"])
            assert as_json(c.parse_fql(text)) == parsed["ok"]
    assert accepted > 1000  # the generator must exercise the safe subset, not just rejections


def test_validate_matches_segment_on_generated_events() -> None:
    """validate/compile_trigger give Segment's verdict on 6,000 ASTs x 4 generated events."""
    asts, events = _generated()
    results = run_oracle(
        [
            {"op": "validate", "ast": ast, "events": batch}
            for ast, batch in zip(asts, events, strict=True)
        ]
    )
    compared = 0
    for ast, batch, result in zip(asts, events, results, strict=True):
        if "error" in result:
            continue  # Segment throws (e.g. a name with no path); we raise on those at compile
        try:
            matches = c.compile_trigger(ast)
        except c.ConditionError:
            continue
        for event, verdict in zip(batch, result["ok"], strict=True):
            assert matches(event) == verdict, (ast, event)
            compared += 1
    assert compared > 20000


def test_random_fql_strings_accepted_only_when_segment_agrees() -> None:
    """Token soups: parse_fql accepts only strings whose Segment AST it returns exactly."""
    rng = random.Random(SEED + 1)
    pieces = [
        "type",
        "event",
        "userId",
        "name",
        "properties.price",
        "traits.plan",
        "context.a.b",
        "=",
        "!=",
        "<",
        ">=",
        '"track"',
        "'track'",
        '"a*"',
        '"*b"',
        "5",
        "-1.5",
        "true",
        "null",
        "and",
        "or",
        "(",
        ")",
        "!",
        "contains(",
        "match(",
        ",",
        "anonymousId",
        "in",
    ]
    texts = [" ".join(rng.choice(pieces) for _ in range(rng.randint(1, 9))) for _ in range(3000)]
    texts += [f"{f} {op} {v}" for f in pieces[:7] for op in pieces[7:11] for v in pieces[11:19]]
    results = run_oracle([{"op": "parse", "fql": text} for text in texts])
    accepted = 0
    for text, result in zip(texts, results, strict=True):
        port = _port_parse(text)
        assert ("error" in port) == ("error" in result), text
        if "ok" in result:
            assert port["ok"] == result["ok"], text
        ours = _ours(c.parse_fql, text)
        if "ok" in ours:
            accepted += 1
            assert ours["ok"] == result["ok"], text
    assert accepted > 50


# Values where JavaScript's coercions differ from Python's: doubles beyond 2**53, -0, numeric
# text (never a number for Segment), nested arrays, objects with index-like keys.
COERCION_SCALARS: list[Any] = [
    2**53 + 1,
    -(2**53) - 3,
    1e300,
    -0.0,
    0.1,
    100.0,
    "0x10",
    " 5 ",
    "1e3",
    "SA",
    "SAx",
    "xSA",
    "Nike",
    [[]],
    [None],
    {"0": 1},
    "constructor",
]


def _coercion_event(rng: random.Random) -> dict[str, Any]:
    """A generated event with some fields missing and some holding coercion edge cases."""
    event = _event(rng)
    for key in ("properties", "traits", "context"):
        obj = event.get(key)
        if isinstance(obj, dict):
            for name in rng.sample(["price", "plan", "a", "length", "0", "items", "page"], 2):
                if rng.random() < 0.6:
                    obj[name] = rng.choice(COERCION_SCALARS)
    for key in ("type", "event", "name", "userId"):
        if rng.random() < 0.15:
            event.pop(key, None)
    # The backtest reads events with orjson: evaluate exactly what it produces.
    decoded: dict[str, Any] = orjson.loads(orjson.dumps(event))
    return decoded


def test_compiled_evaluator_agrees_with_evaluator_and_segment() -> None:
    """compile_fast, compile_trigger and Segment's validate: 0 disagreements on random ASTs x
    random events (missing fields, type coercions, match() prefixes/suffixes included)."""
    rng = random.Random(SEED + 2)
    asts = [_group(rng, 0) for _ in range(4000)]
    asts += [
        c.parse_fql(text)
        for text in (
            'match(userId, "SA*") and !match(event, "*Air")',
            'match(properties.plan, "*x") or properties.price >= 100',
            'match(context.page, "SA*") and properties.price != 0.1',
            "properties.price = 9007199254740991 or properties.a < 1000",
            "properties.length > 0 and traits.constructor != null",
        )
    ]
    # Operands beyond what parse_fql accepts: both evaluators still give Segment's verdict.
    asts += [
        {"type": "group", "operator": "or", "children": [leaf]}
        for leaf in (
            {
                "type": "event-property",
                "name": "price",
                "operator": "number_equals",
                "value": 2**53,
            },
            {"type": "event-property", "name": "price", "operator": "<", "value": "abc"},
            {"type": "event-property", "name": "a", "operator": ">=", "value": 1e300},
            {"type": "event-trait", "name": "price", "operator": "=", "value": 5},
        )
    ]
    events = [[_coercion_event(rng) for _ in range(6)] for _ in asts]
    results = run_oracle(
        [
            {"op": "validate", "ast": ast, "events": batch}
            for ast, batch in zip(asts, events, strict=True)
        ]
    )
    compared = 0
    disagreements: list[tuple[Any, ...]] = []
    for ast, batch, result in zip(asts, events, results, strict=True):
        if "error" in result:
            continue  # Segment throws; both of ours refuse such a trigger at compile time
        try:
            reference = c.compile_trigger(ast)
        except c.ConditionError:
            continue
        fast = compile_fast(ast).matches
        for event, verdict in zip(batch, result["ok"], strict=True):
            ours = (fast(event), reference(event))
            if ours != (verdict, verdict):
                disagreements.append((ast, event, verdict, ours))
            compared += 1
    assert disagreements == []
    assert compared > 20000


def test_compiled_evaluator_refuses_what_the_evaluator_refuses() -> None:
    rng = random.Random(SEED + 3)
    for _ in range(2000):
        ast = _group(rng, 0)
        try:
            c.compile_trigger(ast)
        except c.ConditionError as exc:
            with pytest.raises(c.ConditionError) as caught:
                compile_fast(ast)
            assert str(caught.value) == str(exc)
        else:
            compile_fast(ast)


def test_compile_many_sets_exactly_the_bits_of_the_matching_triggers() -> None:
    """The backtest's one-call-per-event form gives each trigger compile_fast's verdict."""
    rng = random.Random(SEED + 4)
    asts: list[dict[str, Any]] = []
    while len(asts) < 600:
        ast = _group(rng, 0)
        try:
            compile_fast(ast)
        except c.ConditionError:
            continue
        asts.append(ast)
    for start in range(0, len(asts), 6):
        chunk = asts[start : start + 6]
        hits = compile_many(chunk).hits
        singles = [compile_fast(ast).matches for ast in chunk]
        for _ in range(20):
            event = _coercion_event(rng)
            mask = hits(event)
            assert [bool(mask >> i & 1) for i in range(len(chunk))] == [m(event) for m in singles]
