from __future__ import annotations

from pathlib import Path

import pytest

# The repository's sibling folder with the shared data (absent on a user's machine).
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
DATA = SHARED / "data" / "celebamask-mini"


@pytest.fixture
def shared_data() -> Path:
    if not (DATA / "images").is_dir():
        pytest.skip(f"the shared CelebAMask-HQ pairs are not at {DATA.resolve()}")
    return DATA
