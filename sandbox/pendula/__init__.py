"""Pendula stand-in: webhook triggers, inbound API tokens and flows (docs/pendula-token-api.md)."""

from fastapi import APIRouter

from sandbox.pendula import flows, inbound, tenants, tokens
from sandbox.pendula.schema import SCHEMA

router = APIRouter()
for _module in (tenants, tokens, flows, inbound):
    router.include_router(_module.router)

__all__ = ["SCHEMA", "router"]
