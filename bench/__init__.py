"""Benchmarks; each writes its figures as JSON (see README, Performance)."""
