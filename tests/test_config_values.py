"""components.config.values: the text the engine hands the program for each value, and the
types Pulumi.yaml declares (read through components.config.stack_config, as every tool does)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.config.stack_config import StackConfigError, resolve_stack_text
from components.config.values import decode_config_text


@pytest.mark.parametrize(
    ("text", "expected_text", "expected_value"),
    [
        ("on", "on", "on"),
        ("2:30", "2:30", "2:30"),
        ("0o17", "15", 15),
        ("1e3", "1000", 1000),
        ("yes", "yes", "yes"),
        ("2023-02-30", "2023-02-30", "2023-02-30"),
        ("012", "10", 10),
        ("2023-02-28", "2023-02-28 00:00:00 +0000 UTC", "2023-02-28 00:00:00 +0000 UTC"),
        ("'true'", "true", True),
        ("1.5e300", "1.5e+300", 1.5e300),
        ("'[1, 2]'", "[1, 2]", [1, 2]),
    ],
)
def test_scalars_arrive_as_the_engine_hands_them_to_the_program(
    text: str, expected_text: str, expected_value: Any
) -> None:
    entry = resolve_stack_text(f"config:\n  p:k: {text}\n", "f").config["p:k"]
    assert (entry.text, entry.secret, entry.is_object) == (expected_text, False, False)
    assert entry.value == expected_value


def test_objects_arrive_as_json_with_numbers_as_go_writes_them() -> None:
    text = "config:\n  p:k:\n    a: 0x10\n    b: [1e3, 1e21, ~, on]\n    c: {secure: v1:x}\n"
    entry = resolve_stack_text(text, "f").config["p:k"]
    assert entry.is_object and entry.secret
    assert entry.value == {"a": 16, "b": [1000, 1e21, None, "on"], "c": {"secure": "v1:x"}}
    assert json.loads(entry.text or "") == entry.value


def test_a_bare_key_is_the_empty_string_and_a_nested_null_is_null() -> None:
    config = resolve_stack_text("config:\n  p:k:\n  p:n: [~]\n", "f").config
    assert (config["p:k"].text, config["p:k"].is_object, config["p:k"].value) == ("", False, "")
    assert (config["p:n"].text, config["p:n"].value) == ("[null]", [None])


def test_decode_config_text_is_the_programs_reading() -> None:
    assert decode_config_text("15") == 15
    assert decode_config_text("on") == "on"
    assert decode_config_text('{"a": 1}') == {"a": 1}
    assert decode_config_text("1" * 5000) == "1" * 5000  # past Python's digit limit: text


DECLARED_PROJECT = """\
name: segment-pendula
config:
  sandbox: {type: boolean, default: false}
  maxMappingsPerDestination: {type: integer, default: 5}
  allowedPendulaHosts: {type: array, items: {type: string}}
  pendulaTokens: {type: object}
  pendulaApiToken: {type: string, secret: true}
"""
"""A Pulumi.yaml declaring a type for each kind of value (and one secret key)."""


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("sandbox: 'on'", "segment-pendula:sandbox: must be of type 'boolean'"),
        ("sandbox: yes", "segment-pendula:sandbox: must be of type 'boolean'"),
        ("maxMappingsPerDestination: 1.5", "must be of type 'integer'"),
        ("maxMappingsPerDestination: 99999999999999999999", "must be of type 'integer'"),
        ("allowedPendulaHosts: [1, 2]", "must be of type 'array<string>'"),
        ("allowedPendulaHosts: pendula.app", "must be of type 'array<string>'"),
        ("pendulaTokens: [a]", "must be of type 'object'"),
        ("pendulaApiToken: plain", "pendulaApiToken: must be a secure value"),
    ],
)
def test_values_of_the_wrong_declared_type_are_refused_as_the_engine_does(
    line: str, message: str
) -> None:
    with pytest.raises(StackConfigError) as error:
        resolve_stack_text(
            f"config:\n  segment-pendula:{line}\n", "f", DECLARED_PROJECT, "Pulumi.yaml"
        )
    assert message in str(error.value)


@pytest.mark.parametrize(
    "line",
    [
        "sandbox: true", "sandbox: 'false'", "maxMappingsPerDestination: '7'",
        "maxMappingsPerDestination: 1e3", "allowedPendulaHosts: [a, '1']",
        "pendulaTokens: {a: 1}", "pendulaApiToken: {secure: v1:x}",
    ],
)  # fmt: skip
def test_values_of_the_declared_type_pass(line: str) -> None:
    resolve_stack_text(f"config:\n  segment-pendula:{line}\n", "f", DECLARED_PROJECT, "Pulumi.yaml")
