"""requests-based client for the Pendula token API (our contract, `<root>/api/v1/tokens`)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
)
from urllib3.exceptions import TimeoutError as Urllib3TimeoutError
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import RequestHistory, Retry

from components import __version__

USER_AGENT = f"segment-pendula/{__version__}"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# After these the request reached something that failed while or after handling it, so a
# create may have happened. 429 and 503 are explicit "not processed" answers.
AMBIGUOUS_STATUSES = frozenset({500, 502, 504})


class PendulaApiError(Exception):
    """A Pendula API call failed: names the call and the server's answer, never a token."""

    def __init__(
        self,
        method: str,
        path: str,
        status: int | None,
        message: str,
        code: str | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.code = code
        answer = f"HTTP {status}" if status is not None else "no response"
        detail = f"{code}: {message}" if code else message
        super().__init__(f"Pendula API {method} {path} failed ({answer}): {detail}")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard the client tries. Every call is bounded by attempts x (timeouts + backoff)."""

    attempts: int = 5
    """Total tries per call, the first included."""
    backoff_factor: float = 0.5
    """Sleep before try n >= 3 is backoff_factor * 2**(n-2) plus jitter (urllib3's formula)."""
    backoff_max: float = 10.0
    backoff_jitter: float = 0.5
    retry_after_max: float = 30.0
    """Cap on an honoured Retry-After, so a misbehaving server cannot park a deployment."""
    connect_timeout: float = 5.0
    read_timeout: float = 30.0


@dataclass(frozen=True)
class TokenInfo:
    """A Pendula API token as the API describes it (its secret text is never part of it)."""

    id: str
    name: str
    description: str
    status: str
    tenant_id: str
    created_at: str
    idempotency_key: str | None = None
    """The ``Idempotency-Key`` the token was created with, when the server records it: the
    one thing that tells our own lost create apart from anyone else's token."""

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> TokenInfo:
        key = body.get("idempotency_key")
        return cls(
            id=str(body["id"]),
            name=str(body["name"]),
            description=str(body.get("description") or ""),
            status=str(body["status"]),
            tenant_id=str(body["tenant_id"]),
            created_at=str(body["created_at"]),
            idempotency_key=key if isinstance(key, str) and key else None,
        )


@dataclass(frozen=True)
class CreatedToken:
    """A create's outcome: the token, its text (shown only once) and what it took to get it."""

    info: TokenInfo
    token: str = field(repr=False)
    attempts: int = 1
    replayed: bool = False
    """The server honoured our Idempotency-Key and replayed an earlier attempt's response."""
    deactivated_orphans: tuple[str, ...] = ()
    """Tokens that earlier attempts created but whose text never reached us."""
    unidentified_orphans: bool = False
    """An earlier attempt may have created a token, but the server neither replayed the create
    nor records idempotency keys, so it cannot be told apart from other tokens and is left
    alone (never guessed by name): check the tenant's tokens by hand."""


class _CappedRetry(Retry):
    """urllib3's Retry with the honoured Retry-After capped."""

    retry_after_cap: float = 30.0

    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, self.retry_after_cap)


def build_retry(policy: RetryPolicy) -> Retry:
    """urllib3 Retry for the policy: 429/5xx and connection/read errors, every method."""
    # Retry.new() rebuilds through type(self)(**params); a per-policy subclass keeps the cap.
    retry_class = type("PolicyRetry", (_CappedRetry,), {"retry_after_cap": policy.retry_after_max})
    tries = policy.attempts - 1
    return retry_class(  # type: ignore[no-any-return]
        total=tries,
        connect=tries,
        read=tries,
        status=tries,
        other=0,
        redirect=0,
        # POST included (urllib3 leaves it out by default): deactivate/reactivate are idempotent
        # and create is made safe by create_token.
        allowed_methods=None,
        status_forcelist=RETRY_STATUSES,
        backoff_factor=policy.backoff_factor,
        backoff_max=policy.backoff_max,
        backoff_jitter=policy.backoff_jitter,
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
    )


class PendulaClient:
    """One session against `<root>/api/v1`, authorised by a tenant's admin token.

    Build one per operation and close it (`with PendulaClient(url, token) as api:`): a dynamic
    provider is pickled, so it must not hold a session.
    """

    def __init__(self, base_url: str, admin_token: str, policy: RetryPolicy | None = None) -> None:
        self._base_url = base_url.rstrip("/")
        self._base_path = urlsplit(self._base_url).path
        self.policy = policy or RetryPolicy()
        self._session = requests.Session()
        adapter = HTTPAdapter(max_retries=build_retry(self.policy))
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.headers.update(
            {
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
                "Authorization": f"Bearer {admin_token}",
            }
        )
        # A .netrc or proxy settings from the environment must not touch our Authorization.
        self._session.trust_env = False

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()

    def __repr__(self) -> str:
        return f"PendulaClient({self._base_url!r})"

    # -- token operations ---------------------------------------------------------------

    def create_token(
        self, name: str, description: str, *, key_prefix: str | None = None
    ) -> CreatedToken:
        """Create a token once, even when attempts fail after reaching the server.

        All attempts carry one `Idempotency-Key`; a server that honours it replays the first
        attempt's response and says so with `Idempotent-Replayed: true`. A server that does not
        creates one token per attempt that got through, and their texts are lost, so after an
        ambiguous failure we deactivate the other active tokens that carry *this* call's key
        (the server lists it as `idempotency_key`). Nothing else is ever deactivated: a token
        someone else created meanwhile, with the same name and description, has another key
        or none. A create that fails for good sweeps the same way, best effort.

        ``key_prefix`` starts the key with a name stable across runs (``leftover_tokens``):
        a create the server finishes only after we gave up is found by it on the next run.
        """
        key = f"{key_prefix}-{uuid.uuid4()}" if key_prefix else str(uuid.uuid4())
        try:
            response = self._send(
                "POST",
                "/tokens",
                json={"name": name, "description": description},
                headers={"Idempotency-Key": key},
            )
        except PendulaApiError:
            self._sweep_quietly(key)
            raise
        history: tuple[RequestHistory, ...] = tuple(
            response.raw.retries.history if response.raw.retries else ()
        )
        ambiguous = any(_may_have_been_processed(attempt) for attempt in history)
        if response.status_code != 201:
            if ambiguous or response.status_code in AMBIGUOUS_STATUSES:
                self._sweep_quietly(key)
            self._expect(response, "POST", "/tokens", 201)
        body = self._expect(response, "POST", "/tokens", 201)
        info = TokenInfo.from_json(body)
        replayed = response.headers.get("Idempotent-Replayed", "").lower() == "true"
        orphans: tuple[str, ...] = ()
        unidentified = False
        if ambiguous and not replayed:
            orphans, unidentified = self._deactivate_own(key, keep=info.id)
        return CreatedToken(
            info,
            str(body["token"]),
            attempts=len(history) + 1,
            replayed=replayed,
            deactivated_orphans=orphans,
            unidentified_orphans=unidentified,
        )

    def get_token(self, token_id: str) -> TokenInfo | None:
        """The token, or None when Pendula does not know it."""
        path = f"/tokens/{_segment(token_id)}"
        response = self._send("GET", path)
        if response.status_code == 404:
            return None
        return TokenInfo.from_json(self._expect(response, "GET", path, 200))

    def list_tokens(self, page_size: int = 100) -> Iterator[TokenInfo]:
        """Every token of the tenant, following `next_cursor`."""
        cursor: str | None = None
        while True:
            params: dict[str, str | int] = {"limit": page_size}
            if cursor:
                params["cursor"] = cursor
            response = self._send("GET", "/tokens", params=params)
            body = self._expect(response, "GET", "/tokens", 200)
            for item in body["items"]:
                yield TokenInfo.from_json(item)
            cursor = body.get("next_cursor")
            if not cursor:
                return

    def update_token(self, token_id: str, name: str, description: str) -> TokenInfo:
        """Rename and re-describe a token in place (the only editable fields)."""
        path = f"/tokens/{_segment(token_id)}"
        response = self._send("PATCH", path, json={"name": name, "description": description})
        return TokenInfo.from_json(self._expect(response, "PATCH", path, 200))

    def deactivate_token(self, token_id: str) -> TokenInfo | None:
        """Ask Pendula to deactivate; None when the token is unknown (already gone).

        Pendula answers 202 at once and may accept the token for up to 60 s more; we do not wait.
        """
        path = f"/tokens/{_segment(token_id)}/deactivate"
        response = self._send("POST", path)
        if response.status_code == 404:
            return None
        return TokenInfo.from_json(self._expect(response, "POST", path, 202))

    def reactivate_token(self, token_id: str) -> TokenInfo:
        path = f"/tokens/{_segment(token_id)}/reactivate"
        response = self._send("POST", path)
        return TokenInfo.from_json(self._expect(response, "POST", path, 200))

    def deactivate_leftovers(self, key_prefix: str, keep: str | None = None) -> tuple[str, ...]:
        """Deactivate the active tokens an earlier, lost create with ``key_prefix`` made.

        A create that timed out may be finished by the server after the client gave up (and
        after its sweep found nothing): the token is active, its text never arrived, and no
        state knows it. Its ``idempotency_key`` starts with the caller's stable prefix, which
        names one resource, so it is found on the next run and deactivated; ``keep`` is the
        token the caller holds. Returns the deactivated ids.
        """
        marker = f"{key_prefix}-"
        leftovers = [
            info.id
            for info in list(self.list_tokens())
            if info.status == "active"
            and info.id != keep
            and info.idempotency_key is not None
            and info.idempotency_key.startswith(marker)
        ]
        for token_id in leftovers:
            self.deactivate_token(token_id)
        return tuple(leftovers)

    # -- plumbing -----------------------------------------------------------------------

    def _deactivate_own(self, key: str, keep: str | None) -> tuple[tuple[str, ...], bool]:
        """Deactivate active tokens created with ``key`` (but ``keep``).

        Returns their ids, and whether the server records no keys at all (then nothing can be
        identified, and nothing is touched).
        """
        orphans: list[str] = []
        records_keys = False
        for info in list(self.list_tokens()):
            records_keys = records_keys or info.idempotency_key is not None
            if info.idempotency_key != key or info.id == keep or info.status != "active":
                continue
            self.deactivate_token(info.id)
            orphans.append(info.id)
        return tuple(orphans), not records_keys

    def _sweep_quietly(self, key: str) -> None:
        """After a failed create: deactivate what this call created anyway, if possible."""
        # Best effort: the create's own error is the one worth reporting.
        with contextlib.suppress(PendulaApiError, KeyError, TypeError, ValueError):
            self._deactivate_own(key, keep=None)

    def _send(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        try:
            return self._session.request(
                method,
                self._base_url + path,
                json=json,
                params=params,
                headers=dict(headers or {}),
                timeout=(self.policy.connect_timeout, self.policy.read_timeout),
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            # Our own words: nothing of the request (headers, body) can reach the message.
            raise PendulaApiError(
                method,
                self._base_path + path,
                None,
                f"{_describe(exc)} (gave up after {self.policy.attempts} tries)",
            ) from None

    def _expect(self, response: requests.Response, method: str, path: str, status: int) -> Any:
        path = self._base_path + path
        if response.status_code == status:
            try:
                return response.json()
            except ValueError:
                raise PendulaApiError(method, path, status, "response is not JSON") from None
        code: str | None = None
        message = response.reason or "unexpected status"
        try:
            error = response.json()["error"]
            code = str(error["code"])
            message = str(error["message"])
        except (ValueError, KeyError, TypeError):
            pass
        # A server that echoes the credential ("invalid token pdl_…") must not make us print it.
        credential = self._session.headers["Authorization"]
        for secret in (str(credential), str(credential).partition(" ")[2]):
            if len(secret) >= 4:
                message = message.replace(secret, "[secret]")
                code = code.replace(secret, "[secret]") if code is not None else None
        raise PendulaApiError(method, path, response.status_code, message, code)


def _may_have_been_processed(attempt: RequestHistory) -> bool:
    if attempt.error is not None:
        # A connect failure means the request was never sent; a read failure means it was.
        return not isinstance(attempt.error, ConnectTimeoutError)
    return attempt.status in AMBIGUOUS_STATUSES


def _describe(exc: requests.RequestException) -> str:
    """What went wrong on the wire, in a few words (requests wraps urllib3's reason)."""
    reason: object = exc
    if exc.args and isinstance(exc.args[0], MaxRetryError):
        reason = exc.args[0].reason
    if isinstance(reason, NewConnectionError):
        return "could not connect"
    if isinstance(reason, (requests.Timeout, TimeoutError, Urllib3TimeoutError)):
        return "timed out"
    if isinstance(reason, (ProtocolError, requests.ConnectionError)):
        return "connection dropped"
    return type(reason).__name__


def _segment(value: str) -> str:
    """A path segment that cannot escape the tokens collection (ids are opaque strings)."""
    return quote(value, safe="")
