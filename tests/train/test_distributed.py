"""Two gloo processes under torchrun keep identical replicas while reading different samples."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_two_process_gloo_run_keeps_replicas_identical(tiny_data: Path, tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        str(ROOT / "tests" / "train" / "ddp_worker.py"),
        str(tmp_path),
        str(tiny_data),
    ]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    r0, r1 = (json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1))
    assert r0["G"] == r1["G"] and r0["D"] == r1["D"]
    assert r0["G"] != r0["G_start"]  # they did train
    assert not set(r0["seen"]) & set(r1["seen"])  # each rank read its own shard
    assert (tmp_path / "run" / "checkpoints" / "last.safetensors").is_file()  # written by rank 0
