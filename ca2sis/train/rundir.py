"""Numbered run directories (``00000-<preset>-<dataset>[-mapping]``) and their saved config."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ca2sis.atomic import atomic_write_json

RUN_PATTERN = re.compile(r"^(\d{5})-")
CONFIG_FILE = "config.json"
LAST = "last.safetensors"
BEST = "best.safetensors"
GENERATOR = "generator.safetensors"


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "data"


def run_name(index: int, preset: str, data: str, stage: str) -> str:
    name = f"{index:05d}-{slug(preset)}-{slug(Path(data).name)}"
    return name + ("-mapping" if stage == "mapping" else "")


def existing_runs(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    runs = [p for p in root.iterdir() if p.is_dir() and RUN_PATTERN.match(p.name)]
    return sorted(runs, key=lambda p: int(RUN_PATTERN.match(p.name).group(1)))  # type: ignore[union-attr]


def next_run_dir(root: Path, preset: str, data: str, stage: str) -> Path:
    runs = existing_runs(root)
    index = int(RUN_PATTERN.match(runs[-1].name).group(1)) + 1 if runs else 0  # type: ignore[union-attr]
    return root / run_name(index, preset, data, stage)


def find_resumable(root: Path, explicit: str | None = None) -> Path:
    """The run to resume: ``explicit`` (a run folder) or the newest run under ``root`` with a checkpoint."""
    if explicit and explicit != "latest":
        path = Path(explicit)
        if not (path / "checkpoints" / LAST).is_file():
            raise FileNotFoundError(f"--resume {path}: no checkpoints/{LAST} there")
        return path
    if (root / "checkpoints" / LAST).is_file():  # --run-dir pointed at a run itself
        return root
    for run in reversed(existing_runs(root)):
        if (run / "checkpoints" / LAST).is_file():
            return run
    raise FileNotFoundError(f"--resume: no run with checkpoints/{LAST} under {root}")


def write_json(path: Path, data: Any) -> None:
    atomic_write_json(path, data, sort_keys=True)


def read_json(path: Path) -> Any:
    with open(path) as f:
        return json.load(f)
