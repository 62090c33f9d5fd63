"""Secrets audit: every path where a credential could reach text, driven with a recognisable one.

Each test hands a path a secret shaped like the real thing and searches everything the user
could see (exception text and ``repr``, stdout/stderr, log records, files written, HTTP and
gRPC answers) for it. Paths other test modules already cover (stack-file ``repr``, the plan's
rendering, the adopt round trip, the dynamic host's own failures) are not repeated here.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml

from components.__main__ import main
from components.config.load import parse_stack_config
from components.config.models import ConfigError
from components.pendula.client import PendulaApiError, PendulaClient, RetryPolicy
from components.pendula.flow_token import PendulaFlowTokenProvider
from components.review.stack_run import read_stack_text
from components.review.test_event import send
from components.webhook_url import shown
from sandbox.server import SandboxServer, free_port
from sandbox.settings import SandboxSettings
from tests.pendula.dynamic_host import DynamicHost
from tests.sandbox.segment_helpers import TIMEOUT, WEBHOOKS_ACTIONS, SegmentWorkspace

pytestmark = pytest.mark.timeout(60)

SECRET = "pdl_AUDIT_SECRET_0123456789"
"""A Pendula API token as a user would paste it."""
ADMIN_SECRET = "pdl_admin_AUDIT_SECRET_9876543210"
"""A Pendula admin token (the token API's credential)."""
FLOW_ID = "7b0c6bb4-8f0e-4a55-9a43-1c1c5d1b0b6e"
URL = f"https://pendula.app/webhook/inbound/{FLOW_ID}"
F0 = "segment-pendula:destinations[0].flows[0]"
FAST = RetryPolicy(attempts=2, backoff_factor=0.01, backoff_jitter=0.0, read_timeout=2.0)


# --- a server that repeats credentials back ------------------------------------------------


class EchoServer:
    """A loopback HTTP server that answers every request with ``answer(headers)``.

    Real servers do echo credentials ("token pdl_… is not valid"); the client must not repeat
    what it hears. Started and stopped by the test that uses it.
    """

    def __init__(self, answer: Callable[[dict[str, str]], tuple[int, dict[str, Any]]]) -> None:
        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                status, body = answer(dict(self.headers.items()))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = _answer  # noqa: N815 (http.server's method names)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep the test output about the code under test

        self.port = free_port()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> EchoServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def echo_authorization(headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """401 in Pendula's error shape, naming the credential it was given."""
    given = headers.get("Authorization", "")
    return 401, {"error": {"code": f"bad:{given}", "message": f"credential {given} is not valid"}}


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    with EchoServer(echo_authorization) as server:
        yield server


# --- URLs in messages ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (URL, URL),
        (f"{URL}?debug=1", f"{URL}?debug=1"),
        (f"{URL}?token={SECRET}&debug=1", f"{URL}?token=[hidden]&debug=1"),
        (f"{URL}?api_key={SECRET}", f"{URL}?api_key=[hidden]"),
        (f"{URL}?{SECRET}", f"{URL}?[hidden]"),
        (f"{URL}#access_token={SECRET}", f"{URL}#[hidden]"),
        (
            URL.replace("https://", f"https://tenant:{SECRET}@"),
            URL.replace("https://", "https://[hidden]@"),
        ),
        ("https://[::1/broken", "[URL not shown: it cannot be parsed]"),
    ],
)
def test_shown_url_keeps_the_shape_and_hides_credentials(url: str, expected: str) -> None:
    assert shown(url) == expected


# --- stack configuration -------------------------------------------------------------------


def stack(flow_changes: dict[str, Any], **project: Any) -> dict[str, Any]:
    flow = {"name": "welcome", "url": URL, "conditions": {"all": [{"event": {"is": "Signed Up"}}]}}
    flow.update(flow_changes)
    values: dict[str, Any] = {
        "destinations": [{"name": "web", "sourceId": "src1", "flows": [flow]}],
        "pendulaTokens": {"welcome": SECRET},
    }
    values.update(project)
    return values


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param(
            stack({"token": SECRET}),
            f"{F0}.token: Input should be a valid dictionary or instance of FlowTokenConfig",
            id="token written inline instead of in pendulaTokens",
        ),
        pytest.param(
            stack({"token": SECRET}, pendulaTokens={}),
            f"{F0}.token: Input should be a valid dictionary or instance of FlowTokenConfig",
            id="inline token that is nowhere else",
        ),
        pytest.param(
            {"destinations": {"name": "web", "flows": [{"token": SECRET}]}},
            "segment-pendula:destinations: Input should be a valid list",
            id="a mapping where a list belongs, token inside",
        ),
        pytest.param(
            stack({"url": f"{URL}?token={SECRET}"}, pendulaTokens={}, sandbox=True),
            f"{F0}.url: '{URL}?token=[hidden]' must not carry a query, fragment or credentials",
            id="token in the URL query",
        ),
        pytest.param(
            stack({"url": URL.replace("https://", f"https://t:{SECRET}@")}, pendulaTokens={}),
            f"{F0}.url: 'https://[hidden]@pendula.app/webhook/inbound/{FLOW_ID}' is not allowed: "
            "it carries user info (credentials belong in secure config, not URLs) "
            "(allowedPendulaHosts)",
            id="token as URL user info",
        ),
        pytest.param(
            stack({"url": f"http://evil.example/hook?token={SECRET}"}, pendulaTokens={}),
            f"{F0}.url: 'http://evil.example/hook?token=[hidden]' is not allowed: it is not https "
            "(a credential is sent there, so it must be https on an allowed host (pendula.app) "
            "on the default port, without user info) (allowedPendulaHosts)",
            id="token in a URL on another host",
        ),
        pytest.param(
            stack({"customContext": f"{SECRET}\u00e9"}),
            f"{F0}.customContext: '[secret]\u00e9' is not a valid header value: Segment sends "
            "only ASCII header values without control characters or line breaks (write non-ASCII "
            "text in an object, which is sent as JSON with \\u escapes)",
            id="secret copied into a plain key that is also invalid",
        ),
    ],
)
def test_config_errors_never_show_a_secret(values: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_stack_config(values, {"pendulaTokens"})
    assert expected in raised.value.problems, raised.value.problems
    assert SECRET not in str(raised.value) + repr(raised.value) + repr(raised.value.problems)


def test_check_command_prints_the_inline_token_problem_without_the_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``python -m components check`` on a stack where someone pasted the token inline."""
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    flow = {"name": "welcome", "url": URL, "conditions": {"all": [{"event": {"is": "X"}}]}}
    document = {
        "config": {
            "segment:token": {"secure": "v1:AAAA"},
            "segment-pendula:destinations": [
                {"name": "web", "sourceId": "src1", "flows": [{**flow, "token": SECRET}]}
            ],
        }
    }
    (stacks / "Pulumi.prod.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    code = main(["check", "--stacks-dir", str(stacks), "--project-root", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 1
    assert out.splitlines() == [
        f"{stacks / 'Pulumi.prod.yaml'}: {F0}.token: "
        "Input should be a valid dictionary or instance of FlowTokenConfig"
    ]
    assert SECRET not in out + err


def test_offline_stack_input_repr_hides_plaintext_sandbox_secrets() -> None:
    text = yaml.safe_dump(
        {
            "config": {
                "segment:token": "sandbox-segment-token-AUDIT",
                "segment-pendula:sandbox": True,
                "segment-pendula:pendulaApiToken": ADMIN_SECRET,
                "segment-pendula:pendulaTokens": {"welcome": SECRET},
            }
        }
    )
    stack_input = read_stack_text(text, "stacks/Pulumi.local.yaml")
    assert {SECRET, ADMIN_SECRET, "sandbox-segment-token-AUDIT"} <= stack_input.secrets
    shown_text = repr(stack_input) + str(stack_input)
    for secret in (SECRET, ADMIN_SECRET, "sandbox-segment-token-AUDIT"):
        assert secret not in shown_text


# --- the token resource's check (the engine prints every failure) --------------------------


def test_flow_token_check_failure_hides_a_token_in_the_url() -> None:
    provider = PendulaFlowTokenProvider()
    result = provider.check({}, {"flow_url": f"{URL}?token={SECRET}", "token": "pdl_ok_value"})
    assert [(f.property, f.reason) for f in result.failures] == [
        ("flow_url", f"'{URL}?token=[hidden]' must not carry a query, fragment or credentials")
    ]
    result = provider.check({}, {"flow_url": f"http://pendula.app/x?{SECRET}", "token": "pdl_ok"})
    assert [(f.property, f.reason) for f in result.failures] == [
        (
            "flow_url",
            "'http://pendula.app/x?[hidden]' must be https (http only on 127.0.0.1/localhost, "
            "for the sandbox)",
        )
    ]


def test_flow_token_check_failure_never_shows_a_bad_token() -> None:
    result = PendulaFlowTokenProvider().check({}, {"flow_url": URL, "token": f"{SECRET} x"})
    assert [(f.property, f.reason) for f in result.failures] == [
        (
            "token",
            "must be non-empty visible ASCII without spaces (value not shown: it is secret)",
        )
    ]
    assert SECRET not in repr(result.failures)


# --- the Pendula token API client ----------------------------------------------------------


def test_pendula_client_does_not_repeat_an_admin_token_the_server_echoes(
    echo: EchoServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # requests/urllib3 log every connection and retry
    with PendulaClient(f"{echo.url}/api/v1", ADMIN_SECRET, FAST) as api:
        with pytest.raises(PendulaApiError) as raised:
            api.get_token("tok-1")
        assert ADMIN_SECRET not in repr(api)
    assert str(raised.value) == (
        "Pendula API GET /api/v1/tokens/tok-1 failed (HTTP 401): "
        "bad:[secret]: credential [secret] is not valid"
    )
    assert ADMIN_SECRET not in repr(raised.value) + repr(raised.value.args)
    assert "GET /api/v1/tokens/tok-1" in caplog.text  # proves the logs were captured
    assert ADMIN_SECRET not in caplog.text


def test_pendula_client_failure_to_connect_names_no_credential(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    dead = f"http://127.0.0.1:{free_port()}/api/v1"
    with PendulaClient(dead, ADMIN_SECRET, FAST) as api, pytest.raises(PendulaApiError) as raised:
        api.create_token("segment-welcome", "")
    assert str(raised.value) == (
        "Pendula API POST /api/v1/tokens failed (no response): "
        "could not connect (gave up after 2 tries)"
    )
    assert raised.value.__cause__ is None and raised.value.__context__ is not None
    assert "Retry(" in caplog.text  # urllib3 logged its retries
    assert ADMIN_SECRET not in caplog.text + repr(raised.value)


def test_dynamic_host_shows_the_engine_no_echoed_admin_token(echo: EchoServer) -> None:
    """The engine prints the provider's traceback to the user; it must not hold the token."""
    config = {
        "segment-pendula:pendulaApiUrl": f"{echo.url}/api/v1",
        "segment-pendula:pendulaApiToken": ADMIN_SECRET,
        "segment-pendula:sandbox": "true",  # the echo server listens on loopback
    }
    flow_url = f"http://127.0.0.1:{echo.port}/webhook/inbound/{FLOW_ID}"
    with DynamicHost(config) as host:
        inputs = host.checked({"flow_url": flow_url, "mode": "managed", "token_name": "welcome"})
        with pytest.raises(grpc.RpcError) as raised:
            host.create(inputs)
    details = raised.value.details() or ""
    assert details.rstrip().endswith(
        "PendulaApiError: Pendula API POST /api/v1/tokens failed (HTTP 401): "
        "bad:[secret]: credential [secret] is not valid"
    )
    assert ADMIN_SECRET not in details + host.stdout + host.stderr
    assert all(ADMIN_SECRET not in str(response) for response in host.responses)


# --- the test event's POST to Pendula ------------------------------------------------------


def test_send_scrubs_decoded_basic_credentials_from_pendulas_answer() -> None:
    """A server may answer with what it decoded from Basic: the tenant and the raw token."""

    def decode(headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        credential = headers.get("Authorization", "").partition(" ")[2]
        decoded = base64.b64decode(credential).decode()
        return 401, {"error": f"no flow for {decoded}", "token": decoded.partition(":")[2]}

    header = "Basic " + base64.b64encode(f"tenant-42:{SECRET}".encode()).decode()
    with EchoServer(decode) as server:
        response = send(
            f"{server.url}/webhook/inbound/{FLOW_ID}",
            {"event": "Signed Up"},
            {"Content-Type": "application/json", "Authorization": header},
        )
    assert (response.status, json.loads(response.text)) == (
        401,
        {"error": "no flow for ****", "token": "****"},
    )


def test_send_failure_to_connect_names_no_credential() -> None:
    url = f"http://127.0.0.1:{free_port()}/webhook/inbound/{FLOW_ID}"
    with pytest.raises(ValueError) as raised:
        send(url, {}, {"Authorization": f"Bearer {SECRET}"}, timeout=2)
    assert str(raised.value).startswith(f"POST {url}: nothing was sent, connection refused")
    assert SECRET not in str(raised.value) + repr(raised.value)
    assert raised.value.__cause__ is None


# --- adopt: a hand-made mapping that carries its token in the URL --------------------------


@pytest.fixture
def segment(tmp_path: Path) -> Iterator[SandboxServer]:
    config = SandboxSettings(db_path=tmp_path / "db.sqlite3", subscription_writes_per_minute=0)
    with SandboxServer(config) as running:
        yield running


def test_adopt_never_prints_or_writes_a_token_found_in_a_mapping_url(
    segment: SandboxServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    workspace = SegmentWorkspace(segment, "Acme")
    source_id = workspace.source("web")["id"]
    created = workspace.call(
        "POST",
        "/destinations",
        json={
            "sourceId": source_id,
            "metadataId": WEBHOOKS_ACTIONS,
            "enabled": True,
            "name": "Pendula",
            "settings": {},
        },
    )
    assert created.status_code == 200, created.text
    destination_id = created.json()["data"]["destination"]["id"]
    base = {"method": "POST", "batch_size": 0, "data": {"@path": "$."}, "enable_batching": False}
    workspace.subscription(
        destination_id,
        {**base, "url": URL, "headers": {"Authorization": f"Bearer {SECRET}"}},
        trigger='event = "Signed Up"',
        name="Welcome",
    )
    workspace.subscription(
        destination_id,
        {**base, "url": f"{URL}?token={SECRET}", "headers": {}},
        trigger='event = "Order Completed"',
        name="Token in URL",
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PUBLIC_API_TOKEN", workspace.token)
    monkeypatch.setenv("PUBLIC_API_URL", segment.url)
    code = main(["adopt", "--stack", "prod", "--source", source_id])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert (
        f"    - url '{URL}?token=[hidden]' is not a Pendula webhook trigger URL "
        "(https://pendula.app/webhook/inbound/<uuid>)"
    ) in out.splitlines()
    written = "".join(p.read_text(encoding="utf-8") for p in tmp_path.rglob("*.yaml"))
    written += "".join(p.read_text(encoding="utf-8") for p in tmp_path.glob("import.*.json"))
    assert "Welcome" in written  # proves the files were searched
    for secret in (SECRET, workspace.token):
        assert secret not in out + err + written


def test_segment_api_timeouts_and_logs_name_no_token(caplog: pytest.LogCaptureFixture) -> None:
    from components.segment.api import SegmentApi, SegmentApiError

    caplog.set_level(logging.DEBUG)
    api = SegmentApi(
        "sta_AUDIT_SECRET_0123456789",
        f"http://127.0.0.1:{free_port()}",
        max_attempts=2,
        timeout_seconds=TIMEOUT,
        sleep=lambda _: None,
    )
    with pytest.raises(SegmentApiError) as raised:
        api.get_source("src1")
    assert str(raised.value).startswith(
        f"Segment Public API GET /sources/src1: could not reach {api.base_url}/sources/src1: "
        "connection refused"
    )
    assert "Starting new HTTP connection" in caplog.text
    assert "sta_AUDIT_SECRET_0123456789" not in caplog.text + repr(api) + repr(raised.value)
