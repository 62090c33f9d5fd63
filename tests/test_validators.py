"""One validator per field: the stack config, the token provider and the policy pack agree."""

from __future__ import annotations

import pytest
from pulumi.dynamic import CheckFailure

from components.guards import validators
from components.pendula.flow_token import _normalise
from policy.rules import FLOW_TOKEN_TYPE, PolicyConfig, check_resource

BAD_TENANTS = ["acme corp", "acme\r\nX-Evil: 1", "acme\n", "a:b", "", "tenant\t", "é"]


@pytest.mark.parametrize("tenant", BAD_TENANTS)
def test_bad_tenant_ids_are_refused_by_all_three(tenant: str) -> None:
    assert validators.tenant_id_problem(tenant) is not None
    # The token provider (what `pulumi up` runs) ...
    _, failures = _normalise(
        {
            "flow_url": "https://pendula.app/webhook/inbound/0b5f3c1e-7d2a-4c8e-9f41-2a6d8e3b7c10",
            "scheme": "basic",
            "token": "pdl_token",
            "tenant_id": tenant,
        }
    )
    assert [f.property for f in failures if isinstance(f, CheckFailure)] == ["tenant_id"]
    # ... and the policy pack.
    props = {"tenant_id": tenant, "scheme": "basic", "mode": "provided"}
    violations = check_resource(FLOW_TOKEN_TYPE, props, ["authorization", "token"], PolicyConfig())
    assert [v.policy for v in violations] == ["flow-token-fields"]


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "a\nb", "tab\tname", "nul\x00"])
def test_bad_token_names(name: str) -> None:
    assert validators.token_name_problem(name) is not None


def test_good_values_pass() -> None:
    assert validators.tenant_id_problem("c381cbbe-1085-4efa-87c5-06c2050b95aa") is None
    assert validators.token_name_problem(" segment-welcome ") is None
    assert validators.token_description_problem("Segment → welcome flow") is None
    assert validators.token_text_problem("pdl_live_abc") is None


@pytest.mark.parametrize(
    ("value", "paths"),
    [
        (float("nan"), ["x"]),
        ({"a": [1, float("inf")]}, ["x.a[1]"]),
        ({"a": {"b": -float("inf")}, "c": float("nan")}, ["x.a.b", "x.c"]),
    ],
)
def test_non_finite_numbers_are_found_anywhere(value: object, paths: list[str]) -> None:
    assert list(validators.non_finite_numbers(value, "x")) == paths
    problem = validators.non_finite_problem(value, "x")
    assert problem is not None and problem.startswith(", ".join(paths))


def test_finite_values_have_no_problem() -> None:
    assert validators.non_finite_problem({"a": [1, 2.5, "NaN", None]}, "x") is None


def test_json_leaves_names_every_leaf_with_its_key_path() -> None:
    value = {"a": [1, {"b": "x"}], "c": {}, "d": None}
    assert list(validators.json_leaves(value, "data")) == [
        ("data.a[0]", 1),
        ("data.a[1].b", "x"),
        ("data.d", None),
    ]


# --- credentials in plain values: one walk for every key ------------------------------------


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ({"cb": "https://u:p@x.example/"}, "k.cb"),
        ({"cb": "https://x.example/?Api%5FKey=abc"}, "k.cb"),
        ({"cb": "https://x.example/#id_token=abc"}, "k.cb"),
        ({"cb": "https://x.example/?sk9f8e7d6c5b4a"}, "k.cb"),
        ({"headers": {"X-Api-Key": "sk_live_4eC39HqLyjWDarjtT1zdp7dc"}}, "k.headers.X-Api-Key"),
        ({"h": {"Authorization": {"@literal": "Bearer abcdefgh1"}}}, "k.h.Authorization.@literal"),
        ({"Api-Key": 123456789012}, "k.Api-Key"),
        ({"list": [{"client_secret": "0b5f3c1e-7d2a-4c8e-9f41-2a6d8e3b7c10"}]}, "client_secret"),
        ("Basic dXNlcjpwYXNzd29yZA==", "k"),
    ],
)
def test_credential_problems_find_every_place(value: object, where: str) -> None:
    problems = list(validators.credential_problems(value, "k"))
    assert len(problems) == 1 and where in problems[0], problems
    assert "(value not shown)" in problems[0] or "looks like a plaintext credential" in problems[0]


@pytest.mark.parametrize(
    "value",
    [
        {"tokenType": "bearer-jwt-token", "tokenCount": 3, "key": "signup-form"},
        {"url": "https://pendula.app/webhook/inbound/x?debug=1&utm_source=segment"},
        {"tier": "Basic membership", "note": "Bearer of good news"},
        {"password": {"@path": "$.properties.password"}},  # a reference, not a value
    ],
)
def test_credential_problems_leave_ordinary_values_alone(value: object) -> None:
    assert list(validators.credential_problems(value, "k")) == []
