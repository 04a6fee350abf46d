"""Checkpoints by time as well as by steps: a run killed at any moment after it started resumes."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

import main as entry
from ca2sis.config import preset
from ca2sis.train import loop
from ca2sis.train.loop import Trainer
from ca2sis.train.rundir import CONFIG_FILE, LAST, find_resumable
from ca2sis.train.state import load_state

from .conftest import tiny_config


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs (no except, no checkpoint on the way out)."""


def _kill_at(trainer: Trainer, step: int) -> None:
    real = trainer.train_step

    def step_then_die(batch):
        losses = real(batch)
        if trainer.step == step:
            raise Killed
        return losses

    trainer.train_step = step_then_die


def test_a_run_killed_before_its_first_step_checkpoint_resumes(tiny_data: Path, tmp_path: Path) -> None:
    cfg = tiny_config(tiny_data, max_steps=5, checkpoint_every=1000)  # no step-based checkpoint before the end
    trainer = Trainer(cfg, preset("tiny"), tmp_path)
    _kill_at(trainer, 3)
    with pytest.raises(Killed):
        trainer.train()
    assert find_resumable(tmp_path) == tmp_path
    assert load_state(tmp_path / "checkpoints" / LAST)[1]["step"] == 0  # the state before the first step
    resumed = Trainer(cfg, preset("tiny"), tmp_path, resume=True)
    assert resumed.train()["step"] == 5


def test_the_first_checkpoint_comes_after_30_s_then_every_few_minutes(
    tiny_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [0.0]
    monkeypatch.setattr(loop, "time", types.SimpleNamespace(monotonic=lambda: clock[0], perf_counter=lambda: clock[0]))
    cfg = tiny_config(tiny_data, max_steps=9, checkpoint_every=1000, first_checkpoint_s=30, checkpoint_minutes=1.5)
    trainer = Trainer(cfg, preset("tiny"), tmp_path)
    real_step, real_checkpoint = trainer.train_step, trainer.checkpoint

    def twenty_seconds(batch):
        clock[0] += 20.0
        return real_step(batch)

    saved = []
    trainer.train_step = twenty_seconds
    trainer.checkpoint = lambda initial=False: (saved.append(trainer.step), real_checkpoint(initial))
    trainer.train()
    # step 0 before training; at 40 s (step 2) the first progress; then every 90 s (step 7), and the end.
    assert saved == [0, 2, 7, 9]


def test_resume_says_what_it_found(tiny_data: Path, tmp_path: Path, capsys) -> None:
    runs = tmp_path / "runs"
    (runs / "00000-tiny-data").mkdir(parents=True)
    (runs / "00000-tiny-data" / CONFIG_FILE).write_text("{}")
    (runs / "00001-tiny-data").mkdir()
    assert entry.main(["train", "--run-dir", str(runs), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "00000-tiny-data has its config.json but no checkpoint" in err
    assert "00001-tiny-data is not a run folder" in err
    assert entry.main(["train", "--run-dir", str(runs), "--resume", str(runs / "00000-tiny-data")]) == 2
    assert "stopped before its first one" in capsys.readouterr().err
