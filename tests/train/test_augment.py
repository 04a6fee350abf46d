"""Differentiable augmentation of the discriminator's inputs (``--diffaugment``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import main as entry
from ca2sis.config import preset
from ca2sis.tensors import one_hot
from ca2sis.train.augment import DiffAugment
from ca2sis.train.config import DEFAULT_POLICY, TrainConfig, parse_policy, resolve_policy
from ca2sis.train.loop import Trainer
from ca2sis.train.rundir import CONFIG_FILE
from ca2sis.train.steps import generator_losses

from .conftest import tiny_config


def _batch(n: int = 3, size: int = 32, classes: int = 5, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, classes, (n, size, size), generator=g)
    return torch.rand(n, 3, size, size, generator=g) * 2 - 1, one_hot(labels, classes)


def test_off_is_the_identity_and_draws_nothing() -> None:
    images, onehot = _batch()
    augment = DiffAugment("off", seed=1)
    before = augment.state().clone()
    out_images, out_onehot = augment(images, onehot)
    assert out_images is images and out_onehot is onehot
    assert torch.equal(augment.state(), before)
    assert not augment.enabled and augment.policy == "off"


def test_every_family_changes_the_images() -> None:
    images, onehot = _batch()
    for family in ("color", "translation", "cutout"):
        out, _ = DiffAugment(family, seed=3)(images, onehot)
        assert out.shape == images.shape and not torch.equal(out, images), family


def test_the_mask_moves_and_is_cut_exactly_like_the_image() -> None:
    # An image whose first channel is the mask's class-2 channel: after translation and cutout it must
    # still be exactly that channel of the augmented mask.
    _, onehot = _batch(n=6, seed=4)
    images = torch.cat([onehot[:, 2:3], torch.zeros_like(onehot[:, :2])], dim=1)
    out_images, out_onehot = DiffAugment("translation,cutout", seed=5)(images, onehot)
    assert not torch.equal(out_onehot, onehot)
    assert torch.equal(out_images[:, 0], out_onehot[:, 2])
    # colour leaves the mask alone
    _, same = DiffAugment("color", seed=5)(images, onehot)
    assert torch.equal(same, onehot)


def test_the_nth_fake_and_the_nth_real_share_one_draw() -> None:
    images, onehot = _batch(n=4, seed=6)
    augment = DiffAugment(DEFAULT_POLICY, seed=7)
    out, masks = augment(torch.cat([images, images]), torch.cat([onehot, onehot]), repeats=2)
    assert torch.equal(out[:4], out[4:]) and torch.equal(masks[:4], masks[4:])
    assert not torch.equal(out[0], out[1])  # but every sample has its own draw


def test_the_stream_is_reproducible_from_its_saved_state() -> None:
    images, onehot = _batch(seed=8)
    augment = DiffAugment(DEFAULT_POLICY, seed=9)
    augment(images, onehot)
    state = augment.state().clone()
    first = augment(images, onehot)
    augment.set_state(state)
    again = augment(images, onehot)
    assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])


def test_gradients_flow_through_the_augmentation() -> None:
    images, onehot = _batch(seed=10)
    images.requires_grad_(True)
    out, _ = DiffAugment(DEFAULT_POLICY, seed=11)(images, onehot)
    (out * torch.randn_like(out)).sum().backward()
    assert images.grad is not None and torch.isfinite(images.grad).all() and images.grad.abs().sum() > 0


def test_gradients_reach_the_generator_through_the_augmented_discriminator(tiny_data: Path, tmp_path: Path) -> None:
    cfg = tiny_config(tiny_data, diffaugment=DEFAULT_POLICY, lambda_feat=0.0, lambda_att=0.0)
    trainer = Trainer(cfg, preset("tiny"), tmp_path / "run")
    assert trainer.nets.augment is not None
    batch = next(iter(trainer._loader(0, 0)))
    onehot = one_hot(batch["label"], trainer.model_config.num_classes)
    trainer.D.requires_grad_(False)
    total, terms = generator_losses(trainer.nets, cfg, batch["image"], onehot, torch.autocast("cpu", enabled=False))
    assert set(terms) >= {"g_gan"}
    total.backward()
    grads = [p.grad for p in trainer.G.generator.parameters() if p.grad is not None]
    assert grads and any(g.abs().sum() > 0 for g in grads)


def test_policies_parse_and_auto_depends_on_the_data_size() -> None:
    assert parse_policy("cutout, color") == ("color", "cutout")
    assert parse_policy("off") == ()
    with pytest.raises(ValueError, match="rotation"):
        parse_policy("color,rotation")
    with pytest.raises(ValueError, match="rotation"):
        TrainConfig(diffaugment="rotation")
    assert resolve_policy("auto", 800) == DEFAULT_POLICY
    assert resolve_policy("auto", 30000) == "off"
    assert resolve_policy("translation,color", 800) == "color,translation"


def test_a_run_records_the_policy_auto_resolved_to(tiny_data: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    args = ["train", "--data", str(tiny_data), "--preset", "tiny", "--run-dir", str(runs), "--perceptual", "off",
            "--workers", "0", "--val-batch", "2", "--max-steps", "1"]
    assert entry.main(args) == 0
    (run,) = runs.iterdir()
    assert json.loads((run / CONFIG_FILE).read_text())["train"]["diffaugment"] == DEFAULT_POLICY


def test_a_run_can_start_from_a_generator_file(tiny_data: Path, tmp_path: Path) -> None:
    first = Trainer(tiny_config(tiny_data, max_steps=1), preset("tiny"), tmp_path / "a")
    first.train()
    source = tmp_path / "a" / "generator.safetensors"
    second = Trainer(tiny_config(tiny_data, init_generator=str(source), seed=5), preset("tiny"), tmp_path / "b")
    a, b = first.G.state_dict(), second.G.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(ValueError, match="main stage"):
        TrainConfig(stage="mapping", from_run="x", init_generator=str(source))
