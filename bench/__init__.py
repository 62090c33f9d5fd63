"""Benchmarks (`make bench`) and load scripts; run from the project root."""
