"""The training loop on the tiny preset with generated data."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from ca2sis.checkpoint import load_model
from ca2sis.config import preset
from ca2sis.train import state as ckpt
from ca2sis.train.loop import Trainer, TrainingDiverged
from ca2sis.train.rundir import BEST, GENERATOR, LAST

from .conftest import tiny_config


def _snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def test_one_step_changes_the_weights_and_every_loss_is_finite(tiny_data: Path, tmp_path: Path) -> None:
    trainer = Trainer(tiny_config(tiny_data, perceptual="inception"), preset("tiny"), tmp_path / "run")
    g0, d0 = _snapshot(trainer.G), _snapshot(trainer.D)
    batch = next(iter(trainer._loader(0, 0)))
    losses = trainer.train_step(batch)
    assert set(losses) == {"g_gan", "g_feat", "g_perc", "g_att", "d_real", "d_fake"}
    assert all(math.isfinite(v) for v in losses.values())
    assert abs(losses["g_att"] - math.log(2)) < 0.05  # per-class BCE starts near ln 2
    changed = [k for k, v in trainer.G.state_dict().items() if not torch.equal(v, g0[k])]
    assert any(k.startswith("style_encoder") for k in changed) and any(k.startswith("generator") for k in changed)
    assert not any(k.startswith("mapping") for k in changed)  # the main stage leaves the mapping network alone
    assert any(not torch.equal(v, d0[k]) for k, v in trainer.D.state_dict().items())


def test_resumed_run_ends_in_exactly_the_state_of_an_uninterrupted_one(tiny_data: Path, tmp_path: Path) -> None:
    # 6 samples, batch 2: 3 steps per epoch, so the interruption at step 2 resumes mid-epoch and crosses one.
    # The augmentation of D's inputs is on, so its random stream must resume exactly too.
    opts = dict(ema=True, ema_start=1, ema_every=1, max_steps=5, epochs=1, epochs_decay=1,
                diffaugment="color,translation,cutout")
    whole = Trainer(tiny_config(tiny_data, **opts), preset("tiny"), tmp_path / "a")
    whole.train()
    first = Trainer(tiny_config(tiny_data, **{**opts, "max_steps": 2}), preset("tiny"), tmp_path / "b")
    first.train()
    del first  # the "killed" process
    resumed = Trainer(tiny_config(tiny_data, **opts), preset("tiny"), tmp_path / "b", resume=True)
    assert resumed.step == 2
    resumed.train()
    for name in ("G", "D"):
        a, b = getattr(whole, name).state_dict(), getattr(resumed, name).state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a), name
    ema_a, ema_b = whole.ema.state_dict(), resumed.ema.state_dict()
    assert all(torch.equal(ema_a[k], ema_b[k]) for k in ema_a)
    for opt in ("opt_g", "opt_d"):
        sa, sb = getattr(whole, opt).state_dict(), getattr(resumed, opt).state_dict()
        assert sa["param_groups"] == sb["param_groups"]
        for i, entry in sa["state"].items():
            assert all(torch.equal(entry[k], sb["state"][i][k]) for k in entry)


def test_checkpoints_and_the_exported_generator_are_written(tiny_data: Path, tmp_path: Path) -> None:
    trainer = Trainer(tiny_config(tiny_data, checkpoint_every=1, image_every=2), preset("tiny"), tmp_path)
    summary = trainer.train()
    assert (tmp_path / "checkpoints" / LAST).is_file() and (tmp_path / "checkpoints" / BEST).is_file()
    assert list((tmp_path / "samples").glob("*.png"))
    model, config, meta = load_model(tmp_path / GENERATOR)
    assert config.name == "tiny" and meta["step"] == "2"
    assert math.isfinite(summary["best_val_l1"])
    assert not list(tmp_path.rglob("*.tmp"))  # atomic writes leave no temp files behind


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_a_damaged_checkpoint_is_refused_with_a_clear_error(tiny_data: Path, tmp_path: Path, damage: str) -> None:
    Trainer(tiny_config(tiny_data, max_steps=1), preset("tiny"), tmp_path).train()
    path = tmp_path / "checkpoints" / LAST
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        path.write_bytes(bytes(data[: len(data) // 2]))
    else:
        data[-100] ^= 0xFF  # one flipped byte deep inside the tensor data
        path.write_bytes(bytes(data))
    with pytest.raises(ckpt.CorruptCheckpoint, match="damaged"):
        Trainer(tiny_config(tiny_data), preset("tiny"), tmp_path, resume=True)


def test_a_non_finite_loss_stops_training_and_keeps_the_last_good_checkpoint(
    tiny_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trainer = Trainer(tiny_config(tiny_data, max_steps=1), preset("tiny"), tmp_path)
    trainer.train()
    good = (tmp_path / "checkpoints" / LAST).read_bytes()
    resumed = Trainer(tiny_config(tiny_data, max_steps=3), preset("tiny"), tmp_path, resume=True)
    import ca2sis.train.loop as loop

    real = loop.generator_losses

    def poisoned(*args, **kwargs):
        total, terms = real(*args, **kwargs)
        terms["g_gan"] = terms["g_gan"] * float("nan")
        return total, terms

    monkeypatch.setattr(loop, "generator_losses", poisoned)
    with pytest.raises(TrainingDiverged, match="not finite"):
        resumed.train()
    assert (tmp_path / "checkpoints" / LAST).read_bytes() == good


def test_mapping_stage_trains_only_the_mapping_network(tiny_data: Path, tmp_path: Path) -> None:
    Trainer(tiny_config(tiny_data, max_steps=1), preset("tiny"), tmp_path / "main").train()
    cfg = tiny_config(tiny_data, stage="mapping", from_run=str(tmp_path / "main"), max_steps=1)
    trainer = Trainer(cfg, preset("tiny"), tmp_path / "mapping")
    before = _snapshot(trainer.G)
    losses = trainer.train_step(next(iter(trainer._loader(0, 0))))
    assert {"m_gan", "m_div", "m_att", "d_real", "d_fake"} == set(losses)
    assert all(math.isfinite(v) for v in losses.values())
    changed = {k.split(".")[0] for k, v in trainer.G.state_dict().items() if not torch.equal(v, before[k])}
    assert changed == {"mapping"}


def test_mapping_stage_can_start_d_from_the_main_run(tiny_data: Path, tmp_path: Path) -> None:
    main = Trainer(tiny_config(tiny_data, max_steps=1), preset("tiny"), tmp_path / "main")
    main.train()
    cfg = tiny_config(tiny_data, stage="mapping", from_run=str(tmp_path / "main"), d_from_main=True)
    trainer = Trainer(cfg, preset("tiny"), tmp_path / "mapping")
    for k, v in trainer.D.state_dict().items():
        assert torch.equal(v, main.D.state_dict()[k]), k
    # The recipe's default: a fresh D.
    fresh = Trainer(tiny_config(tiny_data, stage="mapping", from_run=str(tmp_path / "main")), preset("tiny"),
                    tmp_path / "mapping2")
    assert any(not torch.equal(v, main.D.state_dict()[k]) for k, v in fresh.D.state_dict().items())


def test_d_from_main_needs_a_run_folder_and_the_mapping_stage(tiny_data: Path, tmp_path: Path) -> None:
    Trainer(tiny_config(tiny_data, max_steps=1), preset("tiny"), tmp_path / "main").train()
    generator_file = str(tmp_path / "main" / GENERATOR)
    with pytest.raises(FileNotFoundError, match="d-from-main"):
        Trainer(tiny_config(tiny_data, stage="mapping", from_run=generator_file, d_from_main=True),
                preset("tiny"), tmp_path / "mapping")
    with pytest.raises(ValueError, match="mapping stage"):
        tiny_config(tiny_data, d_from_main=True)
