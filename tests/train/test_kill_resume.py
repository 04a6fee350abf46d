"""Slow: a training process killed with SIGKILL resumes to exactly the state of an uninterrupted run."""

from __future__ import annotations

import os
import random
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


def _checkpoint_step(runs: Path) -> int:
    found = list(runs.glob(f"*/checkpoints/{LAST}"))
    try:
        return load_state(found[0])[1]["step"] if found else -1
    except (OSError, ValueError, RuntimeError):  # replaced while being read
        return -1


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
    while time.time() < deadline and _checkpoint_step(killed) < 3:  # past the initial (step 0) checkpoint
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


@pytest.mark.slow
def test_sigkill_at_any_moment_after_the_first_30_s_resumes(tiny_data: Path, tmp_path: Path) -> None:
    """Default checkpoint timing, no step-based checkpoint: killed twice at random moments past 30 s."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    runs = tmp_path / "runs"
    args = ["train", "--data", str(tiny_data), "--preset", "tiny", "--run-dir", str(runs), "--max-steps", "100000",
            "--checkpoint-every", "1000000", "--perceptual", "off", "--workers", "0", "--val-batch", "2"]
    rng = random.Random(13)
    reached = -1
    for attempt in range(2):
        command = args if attempt == 0 else ["train", "--run-dir", str(runs), "--resume"]
        proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), *command], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(30 + rng.uniform(0, 8))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        step = _checkpoint_step(runs)
        assert step >= max(reached, 0), "a kill after 30 s left no checkpoint to resume from"
        reached = step
    out = subprocess.run([sys.executable, str(ROOT / "main.py"), "train", "--run-dir", str(runs), "--resume",
                          "--max-steps", str(reached + 2)], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "resumed from" in out.stderr and _checkpoint_step(runs) == reached + 2
