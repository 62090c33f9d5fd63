"""The article's "send a test event" step: match explanation, body, customer-data guard, sending.

Pendula's Segment article warns that a test event "will trigger a flow within Pendula – don't
use customer data at this stage" (reference/pendula.md §3.2). So before anything is sent this
module shows whether the flow's trigger matches the event (leaf by leaf), renders the exact body
and headers Pendula will receive (the credential redacted), and refuses events that look like
real people's data.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from components.config.models import SECRET_PLACEHOLDER, Flow, TokenMode
from components.fql import ConditionError, LeafVerdict, compile_trigger, explain, parse_fql
from components.guards.files import MAX_EVENT_FILE_BYTES, FileError, read_text_limited
from components.guards.unreachable import CONNECT_TIMEOUT_SECONDS, why_unreachable
from components.mapping import render
from components.pendula.flow_token import authorization_header, fingerprint
from components.trigger import CUSTOM_CONTEXT_HEADER

TOKEN_ENV = "PENDULA_TOKEN"
"""Environment variable that supplies the flow's Pendula API token (never a CLI argument)."""

SEND_TIMEOUT_SECONDS = 15.0
RESPONSE_EXCERPT_CHARS = 2000


class SendTestEventError(ValueError):
    """The test event cannot be checked or sent; the message never contains a secret."""


class PendulaUnreachableError(SendTestEventError):
    """Nothing answered at the flow's URL (so nothing was sent); ``url`` is where we tried."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"POST {url}: nothing was sent, {reason}")
        self.url = url


# --- the event -------------------------------------------------------------------------------


def load_event(path: Path) -> dict[str, Any]:
    """One Segment event (a JSON object) from a file, or a clear error naming the file.

    The file must be a regular file of at most ``MAX_EVENT_FILE_BYTES`` (not ``/dev/zero``,
    not a FIFO), UTF-8, and JSON without ``NaN``/``Infinity`` (Segment cannot carry them).
    """
    if not path.exists():
        raise SendTestEventError(f"--event: '{path}' does not exist")
    try:
        text = read_text_limited(path, MAX_EVENT_FILE_BYTES, label=f"--event: '{path}'")
    except FileError as exc:
        raise SendTestEventError(str(exc)) from None
    try:
        event = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise SendTestEventError(f"--event: '{path}' is not valid JSON ({exc})") from None
    if not isinstance(event, dict):
        raise SendTestEventError(
            f"--event: '{path}' must hold one JSON object (a Segment event), "
            f"got {type(event).__name__}"
        )
    return event


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


# --- does the trigger match? -----------------------------------------------------------------


@dataclass(frozen=True)
class MatchReport:
    """Whether the flow's trigger lets the event through, and each condition's verdict."""

    fql: str
    matched: bool | None
    """None when the trigger cannot be evaluated (an acknowledged unsafe raw trigger)."""
    verdicts: tuple[LeafVerdict, ...]
    note: str | None = None


def match_report(flow: Flow, event: Mapping[str, Any]) -> MatchReport:
    """Evaluate the flow's trigger the way Segment's runtime does, leaf by leaf."""
    ast = flow.ast
    if ast is None:
        try:
            ast = parse_fql(flow.fql)
        except ConditionError as exc:
            return MatchReport(
                flow.fql,
                None,
                (),
                f"the raw trigger cannot be evaluated as Segment reads it ({exc})",
            )
    return MatchReport(flow.fql, compile_trigger(ast)(event), tuple(explain(ast, event)))


# --- what Pendula receives -------------------------------------------------------------------


def render_body(flow: Flow, event: Mapping[str, Any]) -> Any:
    """The body Segment sends for this flow's mapping (the whole event by default)."""
    return render(flow.data, event)


def body_text(body: Any) -> str:
    """The body as JavaScript's ``JSON.stringify`` writes it (Segment's runtime is Node.js)."""
    return json.dumps(_javascript_numbers(body), separators=(",", ":"), ensure_ascii=False)


def _javascript_numbers(value: Any) -> Any:
    # JSON.stringify(3.0) is "3": integral floats lose their ".0" (within the safe range).
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {k: _javascript_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_javascript_numbers(v) for v in value]
    return value


def request_headers(flow: Flow, authorization: str) -> dict[str, str]:
    """The headers of the mapping's request: JSON, the credential, the optional custom context."""
    headers = {"Content-Type": "application/json", "Authorization": authorization}
    if flow.custom_context is not None:
        headers[CUSTOM_CONTEXT_HEADER] = flow.custom_context
    return headers


def redacted_authorization(flow: Flow, authorization: str | None) -> str:
    """``Bearer ****`` / ``Basic ****`` plus the header's non-secret fingerprint when known."""
    scheme = "Basic" if flow.token_scheme.value == "basic" else "Bearer"
    if authorization is None:
        return f"{scheme} ****"
    return f"{scheme} **** (fingerprint {fingerprint(authorization)})"


# --- the flow's token ------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenSource:
    """Where to look for a flow's token, in order."""

    stack: str
    sandbox: bool
    project_root: Path
    environ: Mapping[str, str]
    pulumi_cli: str | None
    """Path of the ``pulumi`` executable, or None when it is not installed."""

    @classmethod
    def default(cls, stack: str, sandbox: bool, project_root: Path) -> TokenSource:
        """The process environment and the ``pulumi`` found on PATH."""
        return cls(stack, sandbox, project_root, os.environ, shutil.which("pulumi"))


def resolve_authorization(flow: Flow, source: TokenSource) -> str:
    """The Authorization header value for the flow; the token is looked up, never printed.

    Order: ``$PENDULA_TOKEN``; the plaintext value of a ``sandbox: true`` stack file;
    ``pulumi config get --path pendulaTokens.<flow>`` when the Pulumi CLI is installed.
    """
    token = _resolve_token(flow, source)
    if not token.isascii() or not token.isprintable() or " " in token:
        raise SendTestEventError(
            f"the Pendula token for flow '{flow.name}' must be visible ASCII without spaces"
        )
    try:
        return authorization_header(flow.token_scheme.value, token, flow.tenant_id)
    except ValueError as exc:
        raise SendTestEventError(str(exc)) from None


def _resolve_token(flow: Flow, source: TokenSource) -> str:
    from_env = source.environ.get(TOKEN_ENV)
    if from_env:
        return from_env
    if flow.token_mode is TokenMode.MANAGED:
        raise SendTestEventError(
            f"flow '{flow.name}' uses a managed token: `pulumi up` created it through the "
            "Pendula token API and only the stack state holds it. Export "
            f"{TOKEN_ENV}=<token> to send a test event to this flow"
        )
    if source.sandbox and flow.token is not None and flow.token != SECRET_PLACEHOLDER:
        return flow.token
    key = f"pendulaTokens.{flow.name}"
    if source.pulumi_cli is not None:
        return _token_from_pulumi(source, key)
    raise SendTestEventError(
        f"no Pendula token for flow '{flow.name}': export {TOKEN_ENV}=<token>, or install the "
        f"Pulumi CLI so `pulumi config get --path '{key}' --stack {source.stack}` can read "
        "the stack's secret"
    )


def _token_from_pulumi(source: TokenSource, key: str) -> str:
    assert source.pulumi_cli is not None
    command = [source.pulumi_cli, "config", "get", "--path", key, "--stack", source.stack]
    try:
        done = subprocess.run(  # noqa: S603 (fixed argv, no shell)
            command,
            cwd=source.project_root,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SendTestEventError(f"`pulumi config get --path '{key}'` failed: {exc}") from None
    token = done.stdout.strip()
    if done.returncode != 0 or not token:
        reason = (done.stderr.strip().splitlines() or ["no value"])[0]
        raise SendTestEventError(
            f"`pulumi config get --path '{key}' --stack {source.stack}` failed "
            f"(exit {done.returncode}: {reason}); set it with `pulumi config set --secret "
            f"--path '{key}' <token>` or export {TOKEN_ENV}=<token>"
        )
    return token


# --- customer-data guard ---------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """A value that looks like a real person's data, and the rule it breaks."""

    path: str
    """JSON path of the value, e.g. ``$.context.traits.email``."""
    rule: str


# RFC 2606 §3 reserves example.com/.net/.org (and everything under them); RFC 2606 §2 and
# RFC 6761 §6 reserve the top-level names .example, .test, .invalid and .localhost.
RESERVED_EMAIL_DOMAINS = ("example.com", "example.net", "example.org")
RESERVED_EMAIL_TLDS = ("example", "test", "invalid", "localhost")

_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")

# ACMA, "Phone numbers for use in TV shows, films and creative works"
# (https://www.acma.gov.au/phone-numbers-use-tv-shows-films-and-creative-works): 30 mobile
# numbers, and the geographic ranges (02|03|07|08) 5550 xxxx and (02|03|07|08) 7010 xxxx.
# fmt: off
AU_FICTIONAL_MOBILES = frozenset({
    "491570006", "491570156", "491570157", "491570158", "491570159", "491570110",
    "491570313", "491570737", "491571266", "491571491", "491571804", "491572549",
    "491572665", "491572983", "491573770", "491573087", "491574118", "491574632",
    "491575254", "491575789", "491576398", "491576801", "491577426", "491577644",
    "491578957", "491578148", "491578888", "491579212", "491579760", "491579455",
})
# fmt: on
_AU_FICTIONAL_GEOGRAPHIC = re.compile(r"^[2378](5550|7010)\d{4}$")

# Ofcom, "Telephone numbers for drama purposes"
# (https://www.ofcom.org.uk/phones-and-broadband/phone-numbers/numbers-for-drama): national
# numbers without the leading 0.
_UK_FICTIONAL = re.compile(
    r"^(7700900\d{3}"  # mobile 07700 900000-900999
    r"|2079460\d{3}"  # London 020 7946 0000-0999
    r"|1(13|14|15|16|17|18|21|31|41|51|61)4960\d{3}"  # 0113 496 0000-0999 … 0161 496 0xxx
    r"|1914980\d{3}"  # Tyneside 0191 498 0000-0999
    r"|1632960\d{3}"  # no area 01632 960000-960999
    r"|8081570\d{3}"  # freephone 08081 570000-570999
    r"|9098790\d{3}"  # premium rate 0909 879 0000-0999
    r"|3069990\d{3})$"  # UK-wide 03069 990000-990999
)

# NANPA: 555-0100 through 555-0199 are reserved for fictional use in every area code
# (https://nationalnanpa.com/number_resource_info/555_numbers.html).
_US_FICTIONAL = re.compile(r"^[2-9]\d{2}55501\d{2}$")

_PHONE_KEY = re.compile(r"phone|mobile|msisdn|cell|sms|whatsapp|fax|(^|[_-])tel($|[_-])", re.I)
_PHONE_TEXT = re.compile(r"^\+?[\d\s().-]+$")
_INTERNATIONAL = re.compile(r"^\+\d[\d\s().-]{6,}$")
_SIMPLE_KEY = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
_CARD_TEXT = re.compile(r"^\d(?:[ -]?\d){12,18}$")


def customer_data_findings(event: Any) -> list[Finding]:
    """Every value that looks like a real person's email, phone number or card number."""
    return [
        found for path, key, value in _leaves(event, "$", "") for found in _check(path, key, value)
    ]


def _leaves(value: Any, path: str, key: str) -> Iterator[tuple[str, str, Any]]:
    """Every scalar with its JSON path and the name of the key holding it."""
    if isinstance(value, dict):
        for k, v in value.items():
            name = str(k)
            child = f"{path}.{name}" if _SIMPLE_KEY.match(name) else f"{path}[{json.dumps(name)}]"
            yield from _leaves(v, child, name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}[{index}]", key)
    else:
        yield path, key, value


def _check(path: str, key: str, value: Any) -> Iterator[Finding]:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return
    text = str(value).strip()
    for match in _EMAIL.finditer(text):
        if not _reserved_email_domain(match.group(1)):
            yield Finding(
                path,
                "an email address outside the reserved example domains "
                "(use example.com/.net/.org or a .example/.test/.invalid/.localhost domain, "
                "RFC 2606/6761)",
            )
    if _looks_like_phone(key, text) and not is_fictional_phone(text):
        yield Finding(
            path,
            "a phone number outside the reserved fictional ranges "
            "(use e.g. +61 491 570 156 (ACMA), +1 202 555 0143 (NANPA 555-01xx) or "
            "+44 7700 900123 (Ofcom))",
        )
    elif _CARD_TEXT.match(text) and _luhn_valid(_digits(text)) and text[0] in "23456":
        yield Finding(
            path,
            "a payment card number (a Luhn-valid 13–19 digit number with a card network prefix)",
        )


def _reserved_email_domain(domain: str) -> bool:
    domain = domain.lower().rstrip(".")
    if domain.rsplit(".", 1)[-1] in RESERVED_EMAIL_TLDS:
        return True
    return any(domain == d or domain.endswith(f".{d}") for d in RESERVED_EMAIL_DOMAINS)


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def _looks_like_phone(key: str, text: str) -> bool:
    digits = _digits(text)
    if not 8 <= len(digits) <= 15 or not _PHONE_TEXT.match(text):
        return False
    return bool(_PHONE_KEY.search(key)) or bool(_INTERNATIONAL.match(text))


def is_fictional_phone(text: str) -> bool:
    """Whether a phone number lies in a range regulators reserve for fiction (AU, UK, US)."""
    digits = _digits(text)
    if text.lstrip().startswith("+"):
        candidates = [digits]
    elif digits.startswith("00"):  # international prefix written out
        candidates = [digits[2:]]
    elif digits.startswith("0"):  # a national number: Australian or British
        candidates = [f"61{digits[1:]}", f"44{digits[1:]}"]
    elif len(digits) == 11 and digits.startswith("1"):
        candidates = [digits]
    else:
        candidates = [f"1{digits}"]
    return any(_fictional_international(c) for c in candidates)


def _fictional_international(digits: str) -> bool:
    if digits.startswith("61"):
        national = digits[2:]
        return national in AU_FICTIONAL_MOBILES or bool(_AU_FICTIONAL_GEOGRAPHIC.match(national))
    if digits.startswith("44"):
        return bool(_UK_FICTIONAL.match(digits[2:]))
    if digits.startswith("1"):
        return bool(_US_FICTIONAL.match(digits[1:]))
    return False


def _luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        number = int(char)
        if index % 2 == 1:
            number *= 2
            if number > 9:
                number -= 9
        total += number
    return total % 10 == 0


# --- sending ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PendulaResponse:
    """What Pendula answered: status and a (scrubbed) excerpt of the body."""

    status: int
    text: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def send(
    url: str,
    body: Any,
    headers: Mapping[str, str],
    *,
    timeout: float = SEND_TIMEOUT_SECONDS,
    post: Callable[..., requests.Response] = requests.post,
) -> PendulaResponse:
    """POST the body to the flow's webhook trigger once (no retries: a retry triggers twice)."""
    secrets = [v for k, v in headers.items() if k.lower() == "authorization"]
    try:
        response = post(
            url,
            data=body_text(body).encode("utf-8"),
            headers=dict(headers),
            timeout=(min(CONNECT_TIMEOUT_SECONDS, timeout), timeout),
        )
    except requests.RequestException as exc:
        reason = why_unreachable(exc, urlsplit(url).netloc)
        if reason is not None:
            raise PendulaUnreachableError(url, reason) from None
        raise SendTestEventError(
            f"POST {url} failed: {scrub(type(exc).__name__ + ': ' + str(exc), secrets)}"
        ) from None
    return PendulaResponse(
        response.status_code, scrub(response.text[:RESPONSE_EXCERPT_CHARS], secrets)
    )


def scrub(text: str, secrets: list[str]) -> str:
    """``text`` with every secret (and, for header values, the credential part) removed."""
    for secret in secrets:
        scheme, _, credential = secret.partition(" ")
        parts = [secret, credential]
        if scheme.lower() == "basic":
            # A server may echo the decoded Basic credentials, the API token among them.
            decoded = _decoded_basic(credential)
            parts += [decoded, decoded.partition(":")[2]]
        for part in sorted(parts, key=len, reverse=True):
            if len(part) >= 4:
                text = text.replace(part, "****")
    return text


def _decoded_basic(credential: str) -> str:
    try:
        return base64.b64decode(credential, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return ""
