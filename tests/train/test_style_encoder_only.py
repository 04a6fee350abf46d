"""``--style-encoder-only``: refine a trained generator's style encoder, the rest untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import main as entry
from ca2sis.config import preset
from ca2sis.tensors import one_hot
from ca2sis.train.config import TrainConfig
from ca2sis.train.loop import Trainer

from .conftest import snapshot, tiny_config


def _changed(before: dict[str, torch.Tensor], module: torch.nn.Module) -> set[str]:
    return {k for k, v in module.state_dict().items() if not torch.equal(before[k], v)}


def test_only_the_style_encoder_learns(tiny_data: Path, trained_generator: Path, tmp_path: Path) -> None:
    cfg = tiny_config(tiny_data, init_generator=str(trained_generator), style_encoder_only=True,
                      lambda_l1=10.0, max_steps=2)
    trainer = Trainer(cfg, preset("tiny"), tmp_path / "run")
    G = trainer.G
    before = {name: snapshot(getattr(G, name)) for name in ("style_encoder", "mask_embedder", "generator", "mapping")}
    d_before = snapshot(trainer.D)
    trainer.train()
    assert _changed(before["style_encoder"], G.style_encoder), "the style encoder did not learn"
    for frozen in ("mask_embedder", "generator", "mapping"):
        assert not _changed(before[frozen], getattr(G, frozen)), f"{frozen} changed"
    # With the recipe's adversarial terms on, the discriminator still trains beside the encoder.
    assert _changed(d_before, trainer.D)


def test_without_adversarial_terms_no_discriminator_runs(tiny_data: Path, trained_generator: Path,
                                                         tmp_path: Path) -> None:
    cfg = tiny_config(tiny_data, init_generator=str(trained_generator), style_encoder_only=True,
                      lambda_gan=0.0, lambda_feat=0.0, lambda_l1=10.0, max_steps=2)
    trainer = Trainer(cfg, preset("tiny"), tmp_path / "run")
    d_before = snapshot(trainer.D)
    calls = []
    trainer.D.register_forward_hook(lambda *_: calls.append(1))
    terms = trainer.train_step(next(iter(trainer._loader(0, 0))))
    assert set(terms) == {"g_att", "g_l1"}
    assert not calls and not _changed(d_before, trainer.D)


def test_its_steps_lower_the_reconstruction_error(tiny_data: Path, trained_generator: Path,
                                                   tmp_path: Path) -> None:
    cfg = tiny_config(tiny_data, init_generator=str(trained_generator), style_encoder_only=True,
                      lambda_gan=0.0, lambda_feat=0.0, lambda_l1=10.0, lambda_att=0.0, lr_g=1e-2, max_steps=30)
    trainer = Trainer(cfg, preset("tiny"), tmp_path / "run")
    batch = next(iter(trainer._loader(0, 0)))
    onehot = one_hot(batch["label"], trainer.model_config.num_classes)

    def l1() -> float:
        with torch.no_grad():
            return float((trainer.G(batch["image"], onehot).image - batch["image"]).abs().mean())

    # A generator trained for one step barely listens to its codes, so the gain is small; what matters
    # is its direction (the encoder descends the reconstruction error through the frozen generator).
    errors = [l1()]
    for _ in range(3):
        for _ in range(10):
            trainer.train_step(batch)
        errors.append(l1())
    assert errors == sorted(errors, reverse=True) and errors[-1] < errors[0]


def test_it_needs_a_trained_generator() -> None:
    with pytest.raises(ValueError, match="--init-generator"):
        TrainConfig(style_encoder_only=True)
    with pytest.raises(ValueError, match="main"):
        TrainConfig(stage="mapping", from_run="x", style_encoder_only=True)


def test_the_command_line_takes_it(tiny_data: Path, trained_generator: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    args = ["train", "--data", str(tiny_data), "--preset", "tiny", "--run-dir", str(runs), "--perceptual", "off",
            "--workers", "0", "--val-batch", "2", "--max-steps", "1", "--init-generator", str(trained_generator),
            "--style-encoder-only", "--lambda-gan", "0", "--lambda-feat", "0", "--lambda-l1", "10"]
    assert entry.main(args) == 0
    (run,) = runs.iterdir()
    assert '"style_encoder_only": true' in (run / "config.json").read_text()
