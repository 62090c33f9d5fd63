"""The Pendula stand-in's error shape: `{"error": {"code", "message"}}` for every failure."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, model_validator


class PendulaApiError(Exception):
    """A failure the stand-in reports to its caller with a status, a code and a message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def response(self) -> JSONResponse:
        """The HTTP response carrying this error."""
        return error_response(self.status, self.code, self.message, self.headers)


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """A JSON error body in the contract's shape."""
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers
    )


def _describe_validation_error(exc: RequestValidationError) -> str:
    """One line per problem, naming the field ("body.name", "query.limit") and what is wrong."""
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ()))
        problems.append(f"{where}: {error.get('msg', 'invalid value')}")
    return "; ".join(problems) or "invalid request"


class PendulaRoute(APIRoute):
    """Turns `PendulaApiError` and FastAPI's validation errors into the contract's error body.

    A route class rather than app-wide exception handlers, because the Segment stand-in shares
    the app and answers errors in Segment's own shape.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except PendulaApiError as exc:
                return exc.response()
            except RequestValidationError as exc:
                return error_response(422, "validation_error", _describe_validation_error(exc))

        return guarded


class StrictBody(BaseModel):
    """A request body that rejects unknown fields with a message listing the accepted ones."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_fields(cls, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(cls.model_fields))
            if unknown:
                allowed = ", ".join(cls.model_fields)
                raise ValueError(
                    f"unknown field(s) {', '.join(unknown)}; accepted fields: {allowed}"
                )
        return data
