"""Benchmarks: `python -m bench [name ...]` (or `make bench ARGS="name"`); each prints figures,
the machine it ran on, and a ratio against a baseline measured in the same run."""
