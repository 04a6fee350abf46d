"""Benchmark scripts; each also runs on its own: ``python bench/NAME.py --help``."""
