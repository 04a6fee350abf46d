"""``--lambda-texture``: Gram matrices inside a class region ask for its texture, not for where it lies."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from ca2sis.classes import CELEBAMASK_HQ
from ca2sis.config import preset
from ca2sis.data import DataError
from ca2sis.train.config import TrainConfig
from ca2sis.train.loop import Trainer
from ca2sis.train.losses import region_gram, texture_loss

from .conftest import tiny_config


def _stripes(shift: int = 0, period: int = 4, size: int = 32, amplitude: float = 1.0) -> torch.Tensor:
    """Two feature channels of diagonal stripes, (1, 2, size, size)."""
    y, x = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    phase = 2 * math.pi * (x + y + shift) / period
    return amplitude * torch.stack([torch.sin(phase), torch.cos(phase)])[None].float()


def test_the_gram_matrix_sees_only_the_region() -> None:
    features = torch.zeros(1, 2, 16, 16)
    features[..., :, 8:] = _stripes(size=16)[..., :, 8:]  # texture on the right half only
    left, right = torch.zeros(1, 1, 16, 16), torch.zeros(1, 1, 16, 16)
    left[..., :8], right[..., 8:] = 1, 1
    assert torch.count_nonzero(region_gram(features, left)) == 0
    assert region_gram(features, right).abs().sum() > 0


def test_the_region_may_have_another_size_than_the_features() -> None:
    features = _stripes(size=16)
    full = region_gram(features, torch.ones(1, 1, 64, 64))
    assert torch.allclose(full, region_gram(features, torch.ones(1, 1, 16, 16)))


def test_texture_moved_elsewhere_costs_little_but_texture_smoothed_away_costs_much() -> None:
    region = torch.ones(1, 1, 32, 32)
    photo = [_stripes()]
    moved = texture_loss([_stripes(shift=1)], photo, region)
    smoothed = texture_loss([_stripes(amplitude=0.5)], photo, region)
    assert float(texture_loss(photo, photo, region)) == 0
    assert float(moved) < 0.05 * float(smoothed)
    # whereas a pixel-wise comparison punishes the moved strands more than the smoothed ones
    assert (_stripes(shift=1) - photo[0]).abs().mean() > (_stripes(amplitude=0.5) - photo[0]).abs().mean()


def test_images_without_the_class_count_for_nothing() -> None:
    fake, real = torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8)
    region = torch.zeros(2, 1, 8, 8)
    assert float(texture_loss([fake], [real], region)) == 0
    region[1] = 1
    one = texture_loss([fake[1:]], [real[1:]], region[1:])
    assert torch.allclose(texture_loss([fake], [real], region), one)


def test_gradients_reach_the_render() -> None:
    fake = torch.rand(1, 2, 8, 8, requires_grad=True)
    texture_loss([fake], [torch.rand(1, 2, 8, 8)], torch.ones(1, 1, 8, 8)).backward()
    assert fake.grad is not None and fake.grad.abs().sum() > 0


def test_it_needs_a_perceptual_network_and_a_class() -> None:
    with pytest.raises(ValueError, match="needs --perceptual"):
        TrainConfig(data="d", lambda_texture=100.0, perceptual="off")
    with pytest.raises(ValueError, match="at least one class"):
        TrainConfig(data="d", lambda_texture=100.0, texture_classes=())
    with pytest.raises(ValueError, match="lambda-texture"):
        TrainConfig(data="d", lambda_texture=-1.0)


def test_the_classes_read_back_from_a_runs_config_are_a_tuple() -> None:
    cfg = TrainConfig.from_dict({**TrainConfig(data="d").to_dict(), "texture_classes": ["hair", "eyebrows"]})
    assert cfg.texture_classes == ("hair", "eyebrows")


def test_a_training_step_adds_the_term_inside_the_named_classes(tiny_data: Path, tmp_path: Path) -> None:
    cfg = tiny_config(tiny_data, perceptual="inception", lambda_texture=100.0, texture_classes=("hair", "l_brow"))
    trainer = Trainer(cfg, preset("tiny"), tmp_path / "run")
    wanted = {CELEBAMASK_HQ.by_name("hair").id, CELEBAMASK_HQ.by_name("l_brow").id}
    assert set(trainer.nets.texture_ids) == wanted
    terms = trainer.train_step(next(iter(trainer._loader(0, 0))))
    assert "g_texture" in terms and math.isfinite(terms["g_texture"]) and terms["g_texture"] >= 0


def test_an_unknown_class_name_is_refused_with_the_known_ones(tiny_data: Path, tmp_path: Path) -> None:
    cfg = tiny_config(tiny_data, perceptual="inception", lambda_texture=100.0, texture_classes=("fur",))
    with pytest.raises(DataError, match="'fur'.*known: background"):
        Trainer(cfg, preset("tiny"), tmp_path / "run")
