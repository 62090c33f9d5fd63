"""components.config.engine_yaml: YAML read as the engine (Go's yaml.v3, as Pulumi uses it) reads it.

The expected values are what the real CLI reports (docs/configuration.md "How a stack file is
read"); tests/engine/test_stack_config_oracle.py checks generated cases against the CLI itself.
"""

from __future__ import annotations

import math
import time

import pytest

from components.config.engine_yaml import (
    after_round_trip,
    go_json_float,
    load_engine_yaml,
    parse_timestamp,
    resolve_plain,
)
from components.guards.files import MAX_YAML_ALIASES, MAX_YAML_DEPTH, FileError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # YAML 1.1 booleans stay strings; only the true/false spellings are booleans.
        ("on", "on"), ("off", "off"), ("yes", "yes"), ("no", "no"), ("y", "y"), ("n", "n"),
        ("true", True), ("True", True), ("TRUE", True), ("false", False), ("FALSE", False),
        ("tRUE", "tRUE"),
        # null
        ("~", None), ("null", None), ("Null", None), ("NULL", None), ("nULL", "nULL"),
        # integers: Go's ParseInt with base prefixes, old-style octal, underscores
        ("0o17", 15), ("0O17", 15), ("012", 10), ("0x1F", 31), ("0X1f", 31), ("0b101", 5),
        ("-0b101", -5), ("+12", 12), ("-0x10", -16), ("1_000", 1000), ("0", 0), ("-0", 0),
        ("9223372036854775807", 2**63 - 1), ("18446744073709551615", 2**64 - 1),
        # not integers
        ("08", 8.0), ("0o8", "0o8"), ("0x", "0x"), ("0xG", "0xG"), ("1__", 1),
        # floats: exponents without a dot, leading dot, specials; no sexagesimal
        ("1e3", 1000.0), ("1E3", 1000.0), (".5", 0.5), ("-.5", -0.5), ("1.", 1.0),
        ("99999999999999999999", 1e20), ("2:30", "2:30"), ("1:20:30", "1:20:30"),
        ("1.2.3", "1.2.3"), ("1e", "1e"),
        # timestamps that are not dates stay strings
        ("2023-02-30", "2023-02-30"), ("2023-13-01", "2023-13-01"), ("20230101", 20230101),
        ("2001-12-14 21:59:43.10 -5", "2001-12-14 21:59:43.10 -5"),
        # anything else is a string
        ("hello", "hello"), ("-", "-"), ("+", "+"), ("v1.2", "v1.2"),
    ],
)  # fmt: skip
def test_plain_scalars_resolve_as_yaml_v3_does(text: str, expected: object) -> None:
    value = resolve_plain(text)
    assert value == expected
    assert type(value) is type(expected)


def test_special_floats() -> None:
    assert math.isnan(resolve_plain(".nan"))
    assert resolve_plain(".inf") == math.inf == resolve_plain("+.Inf")
    assert resolve_plain("-.INF") == -math.inf
    assert resolve_plain(".infx") == ".infx"


@pytest.mark.parametrize(
    ("text", "go_string"),
    [
        ("2023-02-28", "2023-02-28 00:00:00 +0000 UTC"),
        ("2023-2-3", "2023-02-03 00:00:00 +0000 UTC"),
        ("2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.1 -0500 -0500"),
        ("2001-12-14T21:59:43Z", "2001-12-14 21:59:43 +0000 UTC"),
        ("2001-12-14 21:59:43.5", "2001-12-14 21:59:43.5 +0000 UTC"),
        ("2024-02-29T00:00:00+00:00", "2024-02-29 00:00:00 +0000 UTC"),
    ],
)
def test_timestamps_read_as_go_prints_them(text: str, go_string: str) -> None:
    stamp = resolve_plain(text)
    assert stamp == parse_timestamp(text)
    assert stamp is not None and not isinstance(stamp, str)
    assert stamp.go_string() == go_string


@pytest.mark.parametrize(
    "text", ["2023-02-29", "2023-04-31", "2023-01-01T25:00:00Z", "2023-01-01T10:00:00"]
)
def test_impossible_or_partial_timestamps_stay_strings(text: str) -> None:
    assert resolve_plain(text) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1e20, "100000000000000000000"), (1e21, "1e+21"), (1.5, "1.5"), (-0.0, "-0"),
        (1e-7, "1e-7"), (123456789.0, "123456789"), (2.5e-5, "0.000025"), (0.1, "0.1"),
        (1.7976931348623157e308, "1.7976931348623157e+308"), (-2.5e-10, "-2.5e-10"),
    ],
)  # fmt: skip
def test_floats_are_written_as_go_json_writes_them(value: float, text: str) -> None:
    assert go_json_float(value) == text


def test_the_round_trip_turns_integral_floats_into_ints() -> None:
    assert after_round_trip({"a": [1000.0, 1e6, -0.0, 1.5]}) == {"a": [1000, 1e6, 0, 1.5]}
    assert type(after_round_trip(1000.0)) is int
    assert type(after_round_trip(1e6)) is float


def test_quoted_and_block_scalars_are_strings() -> None:
    text = "a: 'on'\nb: \"0o17\"\nc: !!str 1e3\nd: |\n  012\ne: >-\n  true\n"
    assert load_engine_yaml(text, "f") == {"a": "on", "b": "0o17", "c": "1e3", "d": "012\n",
                                           "e": "true"}  # fmt: skip


def test_duplicate_keys_are_an_error_naming_both_lines() -> None:
    with pytest.raises(FileError) as error:
        load_engine_yaml("config:\n  a: 1\n  b: 2\n  'a': 3\n", "stacks/Pulumi.x.yaml")
    assert str(error.value) == (
        "stacks/Pulumi.x.yaml: line 4: mapping key 'a' already defined at line 2 "
        "(the engine refuses duplicate keys)"
    )


def test_duplicate_keys_nested_in_lists_are_found_too() -> None:
    with pytest.raises(FileError, match="mapping key 'x' already defined"):
        load_engine_yaml("a:\n  - {x: 1, x: 2}\n", "f")


def test_merge_keys_are_honoured_and_own_keys_win() -> None:
    text = "base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n"
    assert load_engine_yaml(text, "f")["use"] == {"x": 1, "y": 3}


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("a: !!int 1\n", "tag:yaml.org,2002:int"),
        ("a: !!binary aGk=\n", "tag:yaml.org,2002:binary"),
        ("a: !custom x\n", "!custom"),
        ("a: !!python/object:os.system x\n", "tag:yaml.org,2002:python/object:os.system"),
    ],
)
def test_explicit_tags_are_refused(text: str, shown: str) -> None:
    with pytest.raises(FileError) as error:
        load_engine_yaml(text, "f")
    assert f"YAML tag '{shown}' is not supported" in str(error.value)


@pytest.mark.parametrize("key", ["1", "true", "~", "1.5", "[a]"])
def test_non_string_keys_are_refused(key: str) -> None:
    with pytest.raises(FileError, match="is not a string; quote it"):
        load_engine_yaml(f"config:\n  {key}: x\n", "f")


def test_quoted_number_keys_are_strings() -> None:
    assert load_engine_yaml("'1': x\n", "f") == {"1": "x"}


def test_the_limits_of_components_files_still_hold() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
    )
    started = time.perf_counter()
    with pytest.raises(FileError):
        load_engine_yaml(bomb, "f")
    assert time.perf_counter() - started < 1
    with pytest.raises(FileError, match=f"more than {MAX_YAML_ALIASES} YAML aliases"):
        load_engine_yaml("a: &a 1\nb: [" + ", ".join(["*a"] * 100) + "]\n", "f")
    with pytest.raises(FileError, match=f"more than {MAX_YAML_DEPTH} levels"):
        load_engine_yaml("a: " + "[" * 500 + "]" * 500 + "\n", "f")


def test_a_byte_order_mark_is_ignored_as_pulumi_does() -> None:
    assert load_engine_yaml("\ufeffa: 1\n", "f") == {"a": 1}


@pytest.mark.parametrize("text", ["1e999", "-1e999", ".5e999", "9" * 400, "1_0e999"])
def test_floats_past_float64_stay_strings_as_go_refuses_them(text: str) -> None:
    assert resolve_plain(text) == text


def test_underflow_is_zero_as_in_go() -> None:
    assert resolve_plain("1e-400") == 0.0
