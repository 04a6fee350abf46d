"""bench/gpu_train_demo.py: the demo split, the packed copy, and (slow) a whole short run on the CPU."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench import gpu_train_demo as demo
from ca2sis.data.synthetic import write_synthetic_pairs

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def flat(tmp_path: Path) -> Path:
    """A flat images/ + masks/ folder, like the shared mini set, of 6 pairs."""
    root = write_synthetic_pairs(tmp_path / "flat", count=6, size=48, seed=2)
    (root / "labels").rename(root / "masks")
    return root


def test_the_split_holds_out_the_last_pairs_by_name(flat: Path) -> None:
    split = demo.split_pairs(flat, held_out=2)
    assert [p[0].name for p in split["train"]] == ["0.jpg", "1.jpg", "2.jpg", "3.jpg"]
    assert [(i.name, m.name) for i, m in split["test"]] == [("4.jpg", "4.png"), ("5.jpg", "5.png")]
    with pytest.raises(SystemExit, match="holding out 100"):
        demo.split_pairs(flat)


def test_the_linked_split_has_the_layout_training_reads(flat: Path, tmp_path: Path) -> None:
    dest = demo.link_split(flat, tmp_path / "split", held_out=2)
    assert sorted(p.name for p in (dest / "test" / "labels").iterdir()) == ["4.png", "5.png"]
    assert (dest / "train" / "images" / "0.jpg").resolve() == (flat / "images" / "0.jpg").resolve()
    assert demo.resolve_split(dest, tmp_path / "work") == dest  # a split is used as it is


def test_the_packed_split_is_stored_at_the_sizes_the_preset_reads(flat: Path, tmp_path: Path) -> None:
    dest = demo.pack(flat, tmp_path / "packed", "demo-128", held_out=2)
    assert Image.open(dest / "train" / "images" / "0.jpg").size == (143, 143)
    assert Image.open(dest / "test" / "images" / "5.jpg").size == (128, 128)
    label = np.asarray(Image.open(dest / "train" / "labels" / "0.png"))
    source = np.asarray(Image.open(flat / "masks" / "0.png"))
    assert set(np.unique(label)) <= set(np.unique(source))  # nearest: no new class ids at the edges
    assert json.loads((dest / "PACKED.json").read_text())["pairs"] == {"train": 4, "test": 2}


def test_the_exported_model_is_cut_into_pieces_that_rebuild_it(tmp_path: Path) -> None:
    blob = np.random.default_rng(0).integers(0, 256, 2500, dtype=np.uint8).tobytes()
    (tmp_path / "m.safetensors").write_bytes(blob)
    names = demo.cut(tmp_path / "m.safetensors", tmp_path / "out", piece=1000)
    assert names == ["m.safetensors.part1", "m.safetensors.part2", "m.safetensors.part3"]
    assert b"".join((tmp_path / "out" / n).read_bytes() for n in names) == blob


@pytest.mark.slow
def test_a_quick_run_trains_resumes_and_brings_back_a_small_folder(tmp_path: Path) -> None:
    data = write_synthetic_pairs(tmp_path / "flat", count=110, size=40, seed=4)
    (data / "labels").rename(data / "masks")
    cmd = [sys.executable, "bench/gpu_train_demo.py", "--device", "cpu", "--quick", "--minutes", "0.25",
           "--data", str(data), "--work", str(tmp_path / "work"), "--out", str(tmp_path / "out")]
    for _ in range(2):  # the second run continues the first
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    training = report["training"]
    assert training["steps_before"] > 0 and training["steps_after"] > training["steps_before"]
    assert training["mapping"] == "fitted" and "reconstruction" in report["evaluation"]["trained"]
    files = sorted(p for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert len(files) <= 8 and all(p.stat().st_size <= 16 * 2**20 for p in files)
    pieces = [tmp_path / "out" / n for n in report["export"]["pieces"]]
    rebuilt = tmp_path / "rebuilt.safetensors"
    rebuilt.write_bytes(b"".join(p.read_bytes() for p in pieces))
    from ca2sis.checkpoint import load_model
    from ca2sis.weights import sha256_of

    assert sha256_of(rebuilt) == report["export"]["sha256"]
    assert load_model(rebuilt)[1].name == "tiny"
    assert Image.open(tmp_path / "out" / "grid.png").size[0] > 0


@pytest.mark.slow
def test_a_fitted_schedule_is_the_one_the_run_trains_and_it_ends_in_time(tmp_path: Path) -> None:
    data = write_synthetic_pairs(tmp_path / "flat", count=110, size=40, seed=4)
    (data / "labels").rename(data / "masks")
    cmd = [sys.executable, "bench/gpu_train_demo.py", "--device", "cpu", "--quick", "--minutes", "1.5",
           "--fit-schedule", "--data", str(data), "--work", str(tmp_path / "work"), "--out", str(tmp_path / "out")]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    training = json.loads((tmp_path / "out" / "report.json").read_text())["training"]
    assert training["fitted_schedule"] is not None and sum(training["fitted_schedule"]) >= 2
    main_run = sorted((tmp_path / "work" / "runs").glob("*/config.json"))[0]
    config = json.loads(main_run.read_text())["train"]
    assert [config["epochs"], config["epochs_decay"]] == training["fitted_schedule"]
    assert training["trainer_exit_status"] == 0  # it finished its schedule: not stopped by the clock
    assert not (tmp_path / "work" / "probe-runs").exists()  # the probe leaves nothing behind


def test_the_job_deadline_stops_a_trainer_that_is_still_setting_up(tmp_path: Path) -> None:
    import signal
    import time

    (tmp_path / "runs").mkdir()
    # As in a job started in the background: SIGINT ignored, which a child would inherit.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        t0 = time.monotonic()
        status, trained = demo.train_for([sys.executable, "-c", "import time; time.sleep(120)"], 600,
                                         tmp_path / "log", tmp_path / "runs", stop_at=t0 + 1)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert time.monotonic() - t0 < 60 and status != 0 and trained == 0


def test_the_steady_rate_leaves_out_the_warm_up() -> None:
    # 50 slow steps (10 s), then 5 steps per second: the logged rate is the average since the first step.
    batch, lines = 4, []
    for step in range(10, 201, 10):
        seconds = step / 5 if step <= 50 else 10 + (step - 50) / 5
        seconds += 8 if step >= 50 else step * 8 / 50  # the warm-up's extra 8 s
        lines.append(f"12:00:00 INFO step {step}  g_gan 0.1  {step * batch / seconds:.2f} img/s")
    assert demo.steady_rate("\n".join(lines), batch) == pytest.approx(5.0, rel=1e-3)
    assert demo.steady_rate("\n".join(lines[:4]), batch) is None  # nothing logged after the warm-up


def test_the_fitted_schedule_ends_before_the_time_runs_out() -> None:
    constant, decay = demo.fitted_schedule(steps_per_s=10, seconds=500, steps_per_epoch=25)
    assert (constant + decay) * 25 <= 10 * 500 * 0.95 < (constant + decay + 1) * 25
    assert constant == round((constant + decay) / 4) and decay > constant
    assert sum(demo.fitted_schedule(steps_per_s=0.01, seconds=10, steps_per_epoch=25)) == 2  # never empty


def test_the_probe_times_full_steps_even_when_the_run_warms_its_discriminator_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[list[str]] = []

    def fake_train(cmd, seconds, console, root, *rest):
        seen.append(cmd)
        return 1, 0.0  # no rate: the schedule stays as asked

    monkeypatch.setattr(demo, "train_for", fake_train)
    cmd = ["main.py", "train", "--train-arg", "--d-warmup-steps", "300"]
    assert demo.probe_schedule(cmd, tmp_path, tmp_path / "console.log", 32, 600.0) is None
    probe = seen[0]
    # argparse keeps the last value given: the probe's own "0" overrides the run's warm-up.
    last = len(probe) - 1 - probe[::-1].index("--d-warmup-steps")
    assert probe[last + 1] == "0"
    assert not (tmp_path / "probe-runs").exists()  # the probe cleans up after itself
