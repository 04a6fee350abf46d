"""Slow: a training process killed with SIGKILL resumes to exactly the state of an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import main as entry
from ca2sis.train.rundir import LAST
from ca2sis.train.state import load_state

ROOT = Path(__file__).resolve().parents[2]


def _args(data: Path, runs: Path) -> list[str]:
    return [
        "train",
        "--data",
        str(data),
        "--preset",
        "tiny",
        "--run-dir",
        str(runs),
        "--max-steps",
        "30",
        "--checkpoint-every",
        "3",
        "--perceptual",
        "off",
        "--workers",
        "0",
        "--val-batch",
        "2",
        "--ema",
    ]


@pytest.mark.slow
def test_sigkill_then_resume_equals_an_uninterrupted_run(tiny_data: Path, tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), *_args(tiny_data, killed)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline and not list(killed.glob(f"*/checkpoints/{LAST}")):
        time.sleep(0.05)
    time.sleep(0.7)  # let it run on, so the kill lands at an arbitrary point, maybe mid-write
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    (run,) = killed.iterdir()
    stopped_at = load_state(run / "checkpoints" / LAST)[1]["step"]
    assert 0 < stopped_at < 30
    assert entry.main(["train", "--run-dir", str(killed), "--resume"]) == 0

    whole = tmp_path / "whole"
    assert entry.main(_args(tiny_data, whole)) == 0
    (run_whole,) = whole.iterdir()
    a, meta_a = load_state(run / "checkpoints" / LAST)
    b, meta_b = load_state(run_whole / "checkpoints" / LAST)
    assert meta_a["step"] == meta_b["step"] == 30
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
