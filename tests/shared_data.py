"""Where the read-only shared material lives (the repository's sibling ``shared/``), for tests.

It is absent on a user's fresh machine: tests that need it call :func:`require` and are skipped with
the reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CELEBAMASK_MINI = SHARED / "data" / "celebamask-mini"
DESIGN = SHARED / "design"


def require(path: Path) -> Path:
    """Return ``path``, or skip the calling test when the shared material is not there."""
    if not path.exists():
        pytest.skip(f"needs the shared material at {path} (not present on this machine)")
    return path
