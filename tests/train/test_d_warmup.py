"""``--d-warmup-steps``: a fresh discriminator learns against a trained generator before G moves."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ca2sis.checkpoint import read_metadata
from ca2sis.config import preset
from ca2sis.train.config import TrainConfig
from ca2sis.train.loop import Trainer

from .conftest import snapshot, tiny_config
from .test_demo_export import _export_module


def _changed(before: dict[str, torch.Tensor], module: torch.nn.Module) -> bool:
    return any(not torch.equal(before[k], v) for k, v in module.state_dict().items())


def test_during_the_warm_up_only_the_discriminator_learns(tiny_data: Path, trained_generator: Path,
                                                          tmp_path: Path) -> None:
    cfg = tiny_config(tiny_data, init_generator=str(trained_generator), d_warmup_steps=2, max_steps=3)
    trainer = Trainer(cfg, preset("tiny"), tmp_path / "run")
    batch = next(iter(trainer._loader(0, 0)))
    g_before, d_before = snapshot(trainer.G), snapshot(trainer.D)

    terms = trainer.train_step(batch)
    assert set(terms) == {"d_real", "d_fake"}, "a warm-up step has no generator terms"
    assert not _changed(g_before, trainer.G), "the generator moved during the warm-up"
    assert _changed(d_before, trainer.D), "the discriminator did not learn during the warm-up"

    trainer.train_step(batch)
    assert not _changed(g_before, trainer.G)
    # The warm-up counts as steps of the run (its schedule and checkpoints); after it, G learns again.
    assert trainer.step == 2
    terms = trainer.train_step(batch)
    assert {"g_gan", "g_feat", "d_real", "d_fake"} <= set(terms)
    assert _changed(g_before, trainer.G)


def test_the_warm_up_needs_a_trained_generator_and_a_discriminator() -> None:
    with pytest.raises(ValueError, match="--init-generator"):
        TrainConfig(d_warmup_steps=10)
    with pytest.raises(ValueError, match="adversarial"):
        TrainConfig(init_generator="g.safetensors", d_warmup_steps=10, lambda_gan=0.0, lambda_feat=0.0)
    with pytest.raises(ValueError, match="≥ 0"):
        TrainConfig(d_warmup_steps=-1)
    assert TrainConfig(init_generator="g.safetensors", d_warmup_steps=10).d_warmup_steps == 10


def test_an_exported_model_says_its_run_warmed_the_discriminator_up(tiny_data: Path, trained_generator: Path,
                                                                     tmp_path: Path) -> None:
    import json

    run = tmp_path / "run"
    cfg = tiny_config(tiny_data, init_generator=str(trained_generator), d_warmup_steps=1, max_steps=2)
    Trainer(cfg, preset("tiny"), run).train()
    (run / "config.json").write_text(json.dumps({"train": cfg.to_dict()}))
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"models": [{"name": "demo-128", "sha256": ""}]}))
    out = tmp_path / "out.safetensors"
    assert _export_module().main(["--main-run", str(run), "--out", str(out), "--manifest", str(manifest)]) == 0
    assert "--d-warmup-steps 1" in read_metadata(out)["source"]
