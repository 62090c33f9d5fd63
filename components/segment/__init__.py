"""Segment's Public API: the read-only client and ``adopt`` (existing destinations into a
stack file)."""
