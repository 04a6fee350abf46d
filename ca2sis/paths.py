"""Where weights live.

Two folders: the bundled one inside the project (``models/``, read-only for the program) and the
user's models folder, where downloads and registered checkpoints go. The user's folder is
``$CA2SIS_MODELS`` when set, else ``~/.local/share/ca2sis/models`` (``%LOCALAPPDATA%`` on Windows).
Nothing is ever written into site-packages.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_MODELS = PROJECT_ROOT / "models"


def user_models_dir(create: bool = False) -> Path:
    env = os.environ.get("CA2SIS_MODELS")
    if env:
        path = Path(env).expanduser()
    elif sys.platform == "win32":
        path = Path(os.environ.get("LOCALAPPDATA", Path.home())) / "ca2sis" / "models"
    else:
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        path = Path(base) / "ca2sis" / "models"
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def find_weight_file(name: str) -> Path | None:
    """The first existing ``name`` in the user's folder, then the bundled one."""
    for folder in (user_models_dir(), BUNDLED_MODELS):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None
