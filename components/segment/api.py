"""A small read-only client for Segment's Public API (sources, destinations, subscriptions).

Follows reference/segment.md §5: ``Authorization: Bearer <token>``, cursor pagination with
``pagination.count``/``pagination.cursor``, the alpha media type for subscription endpoints,
and 429 answers that say how long to wait (``errors[0].data.msBeforeNext`` or ``Retry-After``).
The token is never part of an error message, a log line or ``repr``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from components.guards.endpoints import DEFAULT_SEGMENT_API_HOSTS, endpoint_problem
from components.guards.redaction import shown_url
from components.guards.unreachable import CONNECT_TIMEOUT_SECONDS, why_unreachable

DEFAULT_URL = "https://api.segmentapis.com"
"""The Terraform provider's default when neither ``url`` nor ``PUBLIC_API_URL`` is set."""

EU_URL = "https://eu1.api.segmentapis.com"
"""The Public API host of EU workspaces (docs.segmentapis.com, Getting Started)."""

V1_JSON = "application/vnd.segment.v1+json"
V1ALPHA_JSON = "application/vnd.segment.v1alpha+json"
"""Subscription endpoints are alpha (public-api-sdk-go ``api_destinations.go``)."""

PAGE_SIZE = 200
"""The Terraform provider's ``MaxPageSize`` and the API's default count."""

_RETRYABLE = frozenset({429, 502, 503, 504})


class SegmentApiError(RuntimeError):
    """A Public API call failed; the message names the call and the reason, never the token."""

    def __init__(self, method: str, path: str, status: int | None, reason: str) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.reason = reason
        where = f"Segment Public API {method} {path}"
        super().__init__(f"{where}: {reason}" if status is None else f"{where}: {status} {reason}")


class SegmentApi:
    """Read-only access to one workspace, authenticated by a Public API token."""

    def __init__(
        self,
        token: str,
        base_url: str = DEFAULT_URL,
        *,
        session: requests.Session | None = None,
        page_size: int = PAGE_SIZE,
        max_attempts: int = 6,
        max_wait_seconds: float = 60.0,
        timeout_seconds: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        allowed_hosts: Iterable[str] = DEFAULT_SEGMENT_API_HOSTS,
    ) -> None:
        if not token or not token.strip():
            raise ValueError("token: a Segment Public API token is required (PUBLIC_API_TOKEN)")
        try:
            parts = urlsplit(base_url)
        except ValueError:
            parts = urlsplit("")
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError(
                f"url: '{shown_url(base_url)}' is not an http(s) URL (for example {DEFAULT_URL} "
                f"or {EU_URL})"
            )
        # The token is sent there: the rule of every credential endpoint
        # (components.guards.endpoints).
        # Loopback is allowed: reading from a local sandbox sends nothing off this machine.
        if problem := endpoint_problem(base_url, allowed_hosts, allow_loopback=True):
            raise ValueError(f"url: {problem}")
        if not 1 <= page_size <= 1000:
            raise ValueError(f"page_size: {page_size} is out of range; allowed 1..1000")
        self.base_url = base_url.rstrip("/")
        self._token = token.strip()
        self._session = session or requests.Session()
        self.page_size = page_size
        self.max_attempts = max_attempts
        self.max_wait_seconds = max_wait_seconds
        self.timeout_seconds = timeout_seconds
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"SegmentApi(base_url={self.base_url!r}, token=[secret])"

    # --- the calls adopt needs ------------------------------------------------------------

    def get_source(self, source_id: str) -> dict[str, Any]:
        """``GET /sources/{id}`` → ``data.source``."""
        return _object(self.get(f"/sources/{_segment(source_id)}"), "source")

    def get_destination(self, destination_id: str) -> dict[str, Any]:
        """``GET /destinations/{id}`` → ``data.destination``."""
        return _object(self.get(f"/destinations/{_segment(destination_id)}"), "destination")

    def connected_destinations(self, source_id: str) -> Iterator[dict[str, Any]]:
        """Every destination connected to a source, across all pages."""
        return self.paginate(
            f"/sources/{_segment(source_id)}/connected-destinations", "destinations"
        )

    def subscriptions(self, destination_id: str) -> Iterator[dict[str, Any]]:
        """Every subscription (mapping) of a destination, across all pages (alpha endpoint)."""
        return self.paginate(
            f"/destinations/{_segment(destination_id)}/subscriptions", "subscriptions", alpha=True
        )

    # --- transport ------------------------------------------------------------------------

    def paginate(self, path: str, key: str, *, alpha: bool = False) -> Iterator[dict[str, Any]]:
        """Items under ``data.<key>`` of every page, following ``data.pagination.next``."""
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            params = {"pagination.count": str(self.page_size)}
            if cursor is not None:
                params["pagination.cursor"] = cursor
            data = self.get(path, params, alpha=alpha)
            items = data.get(key)
            if not isinstance(items, list):
                raise SegmentApiError("GET", path, None, f"the answer has no list data.{key}")
            yield from (item for item in items if isinstance(item, dict))
            pagination = data.get("pagination")
            cursor = pagination.get("next") if isinstance(pagination, dict) else None
            if not cursor:
                return
            if cursor in seen:  # a cursor that repeats would loop forever
                raise SegmentApiError("GET", path, None, f"pagination cursor {cursor!r} repeated")
            seen.add(cursor)

    def get(
        self, path: str, params: Mapping[str, str] | None = None, *, alpha: bool = False
    ) -> dict[str, Any]:
        """``GET`` one resource and return its ``data`` object, retrying what is retryable."""
        media_type = V1ALPHA_JSON if alpha else V1_JSON
        headers = {
            "Authorization": f"Bearer {self._token}",
            # The alpha type first; plain JSON is accepted by every endpoint as a fallback.
            "Accept": f"{media_type}, application/json",
            "User-Agent": "segment-pendula-adopt",
        }
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = self._session.get(
                    self.base_url + path,
                    params=dict(params or {}),
                    headers=headers,
                    timeout=(
                        min(CONNECT_TIMEOUT_SECONDS, self.timeout_seconds),
                        self.timeout_seconds,
                    ),
                )
            except requests.RequestException as exc:
                unreachable = why_unreachable(exc, urlsplit(self.base_url).netloc)
                if unreachable is not None:
                    # Nothing answers there (no DNS, refused, no route): retrying for a minute
                    # would only delay the same answer. Say where we tried and what to check.
                    raise SegmentApiError(
                        "GET",
                        path,
                        None,
                        f"could not reach {shown_url(self.base_url)}{path}: {unreachable}. "
                        "Check the "
                        "network (or proxy) and the API URL (--segment-url or PUBLIC_API_URL: "
                        f"{DEFAULT_URL} for US workspaces, {EU_URL} for EU)",
                    ) from None
                # requests' messages carry the URL but never the headers, so no token.
                if attempt == self.max_attempts:
                    raise SegmentApiError(
                        "GET",
                        path,
                        None,
                        f"no answer from {shown_url(self.base_url)}: {type(exc).__name__}",
                    ) from None
                self._sleep(self._backoff(attempt))
                continue
            if response.status_code in _RETRYABLE and attempt < self.max_attempts:
                self._sleep(self._wait_for(response, attempt))
                continue
            return self._data(response, path)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _backoff(self, attempt: int) -> float:
        return float(min(2 ** (attempt - 1), self.max_wait_seconds))

    def _wait_for(self, response: requests.Response, attempt: int) -> float:
        """Segment's own hint (``msBeforeNext``, then ``Retry-After``), capped; else back off."""
        hint: float | None = None
        data = _first_error(response).get("data")
        if isinstance(data, dict) and isinstance(data.get("msBeforeNext"), int | float):
            hint = float(data["msBeforeNext"]) / 1000
        else:
            retry_after = response.headers.get("Retry-After", "")
            if retry_after.strip().isdigit():
                hint = float(retry_after.strip())
        if hint is None or not math.isfinite(hint) or hint < 0:
            return self._backoff(attempt)
        return min(hint, self.max_wait_seconds)

    def _data(self, response: requests.Response, path: str) -> dict[str, Any]:
        status = response.status_code
        if 200 <= status < 300:
            try:
                body = response.json()
            except ValueError:
                raise SegmentApiError("GET", path, status, "the answer is not JSON") from None
            data = body.get("data") if isinstance(body, dict) else None
            if not isinstance(data, dict):
                raise SegmentApiError("GET", path, status, "the answer has no data object")
            return data
        error = _first_error(response)
        message = str(error.get("message") or response.reason or "request failed")
        message = self._scrub(message)
        if status in (401, 403):
            message += (
                ". Check PUBLIC_API_TOKEN: it must be a Public API token of this workspace "
                "allowed to read sources and destinations, for the workspace's region "
                f"({DEFAULT_URL} for US, {EU_URL} for EU)"
            )
        elif status == 429:
            message += f" (still rate limited after {self.max_attempts} attempts)"
        raise SegmentApiError("GET", path, status, message)

    def _scrub(self, text: str) -> str:
        """A server that echoes the credential must not make us print it."""
        return text.replace(self._token, "[secret]")


def _first_error(response: requests.Response) -> dict[str, Any]:
    """``errors[0]`` of Segment's error envelope, or ``{}``."""
    try:
        body = response.json()
    except ValueError:
        return {}
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return errors[0]
    return {}


def _object(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise SegmentApiError("GET", key, None, f"the answer has no object data.{key}")
    return value


def _segment(ident: str) -> str:
    """An id used as one path segment: Segment ids are base62/hex, never slashes or dots."""
    if not ident or not all(c.isalnum() or c in "-_" for c in ident):
        raise ValueError(f"id: {ident!r} is not a Segment id (letters, digits, '-' and '_')")
    return ident
