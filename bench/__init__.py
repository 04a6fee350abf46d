"""Benchmark scripts; each also runs on its own: ``python bench/NAME.py --help``."""

import platform
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def repo_path(path: str | Path | None) -> str:
    """A path inside the repository as the repository names it, so reports read the same on every
    machine; other paths as they are ("" for none)."""
    if not path:
        return ""
    resolved = Path(path).resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else str(path)


def cpu_isa() -> str:
    try:
        flags = set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        return platform.machine()
    for flag, name in (("amx_bf16", "AMX-BF16"), ("avx512_bf16", "AVX-512 with BF16"), ("avx512f", "AVX-512"),
                       ("avx2", "AVX2")):
        if flag in flags:
            return name
    return platform.machine()


def write_report(path: Path | None, report: dict) -> None:
    """Write a benchmark's JSON report atomically (nothing when no path was asked for)."""
    if path:
        from ca2sis.atomic import atomic_write_json

        atomic_write_json(path, report)
        print(f"wrote {path}")
