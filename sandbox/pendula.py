"""Placeholder until the pendula stand-in lands: no tables, no routes."""

from fastapi import APIRouter

SCHEMA = ""
router = APIRouter()
