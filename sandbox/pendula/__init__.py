"""Pendula stand-in: webhook triggers, inbound API tokens and flows (docs/pendula-token-api.md)."""

from fastapi import APIRouter

from sandbox.pendula import flows, inbound, tenants, tokens
from sandbox.pendula.schema import SCHEMA

router = APIRouter()
# The webhook trigger first: it is the hot path, and routes are matched in order.
for _module in (inbound, tenants, tokens, flows):
    router.include_router(_module.router)

__all__ = ["SCHEMA", "router"]
