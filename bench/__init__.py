"""Benchmark scripts, each run as a file (`python bench/<name>.py`). A package only so that
type checkers name them `bench.<name>` (bench/rankings.py is not the rankings app)."""
