"""Placeholder until the segment_api stand-in lands: no tables, no routes."""

from fastapi import APIRouter

SCHEMA = ""
router = APIRouter()
