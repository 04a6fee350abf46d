"""``main.py train`` from the command line: dry run, numbered runs, resume, clear refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import main as entry
from ca2sis.train.rundir import CONFIG_FILE, LAST


def _train(*args: str) -> int:
    return entry.main(["train", *args])


def test_dry_run_prints_the_resolved_config_and_creates_nothing(tiny_data: Path, tmp_path: Path, capsys) -> None:
    code = _train(
        "--data",
        str(tiny_data),
        "--preset",
        "tiny",
        "--run-dir",
        str(tmp_path / "runs"),
        "--dry-run",
        "--lambda-feat",
        "3",
        "--no-swap-left-right",
    )
    assert code == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["run_dir"].endswith("00000-tiny-" + tiny_data.name)
    assert shown["model"]["name"] == "tiny" and shown["train"]["lambda_feat"] == 3.0
    assert shown["train"]["swap_left_right"] is False and shown["train"]["lr_d"] == 4e-4
    assert not (tmp_path / "runs").exists()


def test_runs_are_numbered_save_their_config_and_resume_from_the_last_checkpoint(
    tiny_data: Path, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    common = ["--preset", "tiny", "--run-dir", str(runs), "--perceptual", "off", "--workers", "0", "--val-batch", "2"]
    assert _train("--data", str(tiny_data), "--max-steps", "1", *common) == 0
    assert _train("--data", str(tiny_data), "--max-steps", "1", *common) == 0
    first, second = sorted(runs.iterdir())
    assert first.name.startswith("00000-tiny-") and second.name.startswith("00001-tiny-")
    saved = json.loads((second / CONFIG_FILE).read_text())
    assert saved["model"]["resolution"] == 32 and saved["train"]["perceptual"] == "off"
    assert _train("--run-dir", str(runs), "--resume", "--max-steps", "2") == 0
    assert len(list(runs.iterdir())) == 2  # resumed in place, no new run
    from ca2sis.train.state import load_state

    assert load_state(second / "checkpoints" / LAST)[1]["step"] == 2


def test_missing_vgg_weights_stop_before_training_with_what_to_fetch(
    tiny_data: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CA2SIS_MODELS", str(tmp_path / "models"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    code = _train("--data", str(tiny_data), "--preset", "tiny", "--run-dir", str(tmp_path / "runs"), "--no-download")
    err = capsys.readouterr().err
    assert code == 2
    assert "vgg19-dcbb9e9d.pth" in err and str(tmp_path / "models") in err and "--perceptual off" in err
    assert not (tmp_path / "runs").exists()


def test_bad_options_are_refused_with_a_message(tiny_data: Path, tmp_path: Path, capsys) -> None:
    assert _train("--data", str(tmp_path / "nowhere"), "--preset", "tiny") == 2
    assert "no such folder" in capsys.readouterr().err
    assert _train("--run-dir", str(tmp_path / "empty"), "--resume") == 2
    assert "no run" in capsys.readouterr().err
    assert _train("--data", str(tiny_data), "--stage", "mapping", "--preset", "tiny") == 2
    assert "--from" in capsys.readouterr().err
