"""The EMA's memory of its start: how much of the exported generator is still the one at --ema-start."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch
from torch import nn

from ca2sis.config import preset
from ca2sis.train.ema import EMA, start_share
from ca2sis.train.loop import Trainer

from .conftest import tiny_config


@pytest.mark.parametrize(("beta", "start", "every", "last"), [(0.998, 300, 1, 675), (0.98, 0, 10, 100),
                                                               (0.9, 7, 3, 40), (0.9, 5, 1, 5)])
def test_start_share_is_what_the_ema_keeps_of_the_model_at_its_start(beta, start, every, last):
    model = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(0.0)  # the model as it is at the start...
    ema = EMA(model, beta=beta, start=start, every=every)
    for step in range(1, last + 1):
        if step == start + 1:
            with torch.no_grad():
                model.weight.fill_(1.0)  # ...and after it, as training has moved it
        ema.update(model, step)
    kept = 1.0 - ema.shadow.weight.item()
    assert kept == pytest.approx(start_share(beta, start, every, last), rel=1e-4)


def test_a_run_too_short_for_its_ema_says_so(tiny_data: Path, trained_generator: Path, tmp_path: Path,
                                             caplog: pytest.LogCaptureFixture) -> None:
    cfg = tiny_config(tiny_data, init_generator=str(trained_generator), d_warmup_steps=2, max_steps=3,
                      ema=True, ema_beta=0.998, ema_start=2, ema_every=1)
    with caplog.at_level(logging.WARNING, logger="ca2sis.train"):
        Trainer(cfg, preset("tiny"), tmp_path / "run").train()
    warning = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert "100 % of the generator as it was at step 2, the starting generator" in warning
    assert "--ema-beta" in warning


def test_a_long_enough_run_trains_without_the_warning(tiny_data: Path, tmp_path: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    cfg = tiny_config(tiny_data, max_steps=4, ema=True, ema_beta=0.1, ema_start=1, ema_every=1)
    with caplog.at_level(logging.WARNING, logger="ca2sis.train"):
        Trainer(cfg, preset("tiny"), tmp_path / "run").train()
    assert not any("EMA:" in r.getMessage() for r in caplog.records)
