"""Backtest: what triggers would have matched on recorded Segment events (see run.py)."""
