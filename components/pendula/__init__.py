"""Pendula: the token API client and the `PendulaFlowToken` dynamic resource."""

from components.pendula.client import PendulaApiError, PendulaClient, RetryPolicy
from components.pendula.flow_token import (
    PendulaFlowToken,
    PendulaFlowTokenArgs,
    PendulaFlowTokenProvider,
    PendulaTokenError,
)

__all__ = [
    "PendulaApiError",
    "PendulaClient",
    "PendulaFlowToken",
    "PendulaFlowTokenArgs",
    "PendulaFlowTokenProvider",
    "PendulaTokenError",
    "RetryPolicy",
]
