"""Benchmarks of the after-sales pipeline: `make bench` / `python -m benchmarks --help`.

Each comparison runs its sides in separate child processes on the same generated data, checks that
they produced the same output, and writes absolute figures and ratios to docs/benchmarks.md.
"""
