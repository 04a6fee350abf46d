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


def describe_run(run: Path) -> str:
    """What a run folder holds, in the words ``--resume`` uses when it cannot continue it."""
    if not run.is_dir():
        return f"{run} does not exist" if not run.exists() else f"{run} is not a folder"
    if (run / "checkpoints" / LAST).is_file():
        return f"{run.name} can be resumed (checkpoints/{LAST})"
    if not (run / CONFIG_FILE).is_file():
        return f"{run.name} is not a run folder (no {CONFIG_FILE})"
    return (f"{run.name} has its {CONFIG_FILE} but no checkpoint: it stopped before its first one "
            "(a new run saves one before its first step); start it again without --resume")


def find_resumable(root: Path, explicit: str | None = None) -> Path:
    """The run to resume: ``explicit`` (a run folder) or the newest run under ``root`` with a checkpoint.

    When there is none, the error says what was found instead, run by run.
    """
    if explicit and explicit != "latest":
        path = Path(explicit)
        if not (path / "checkpoints" / LAST).is_file():
            raise FileNotFoundError(f"--resume {path}: {describe_run(path)}")
        return path
    if (root / "checkpoints" / LAST).is_file():  # --run-dir pointed at a run itself
        return root
    runs = existing_runs(root)
    for run in reversed(runs):
        if (run / "checkpoints" / LAST).is_file():
            return run
    if not root.is_dir():
        raise FileNotFoundError(f"--resume: no run to resume: {root} does not exist (give --run-dir or --resume RUN)")
    if not runs:
        raise FileNotFoundError(f"--resume: no runs under {root} (runs are numbered folders such as 00000-…)")
    found = "; ".join(describe_run(r) for r in reversed(runs[-3:]))
    raise FileNotFoundError(f"--resume: no run under {root} has checkpoints/{LAST}. Newest first: {found}")


def write_json(path: Path, data: Any) -> None:
    atomic_write_json(path, data, sort_keys=True)


def read_json(path: Path) -> Any:
    """A run's JSON file; a pipe, a folder or a damaged file is a ``ValueError`` naming it."""
    from ca2sis.safe_files import read_bytes

    if not Path(path).exists():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        return json.loads(read_bytes(path, "run file", 64 << 20))
    except (UnicodeDecodeError, RecursionError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is damaged ({exc})") from None
