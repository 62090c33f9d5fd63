"""Placeholder until the tracking stand-in lands: no tables, no routes."""

from fastapi import APIRouter

SCHEMA = ""
router = APIRouter()
