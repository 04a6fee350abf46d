"""Benchmark scripts; each also runs on its own: ``python bench/NAME.py --help``."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def repo_path(path: str | Path | None) -> str:
    """A path inside the repository as the repository names it, so reports read the same on every
    machine; other paths as they are ("" for none)."""
    if not path:
        return ""
    resolved = Path(path).resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else str(path)
