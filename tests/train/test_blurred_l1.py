"""``--l1-blur-sigma``: the pixel L1 term on blurred images asks for colours and shading, not texture."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ca2sis.config import preset
from ca2sis.train.config import MAX_L1_BLUR_SIGMA, TrainConfig
from ca2sis.train.loop import Trainer
from ca2sis.train.losses import gaussian_blur, pixel_l1

from .conftest import tiny_config


def _checkerboard(size: int = 32, amplitude: float = 0.3) -> torch.Tensor:
    y, x = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    return (amplitude * (1 - 2 * ((x + y) % 2))).float().expand(1, 3, size, size)


def test_without_blur_it_is_the_mean_absolute_difference() -> None:
    a, b = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16)
    assert torch.equal(pixel_l1(a, b), (a - b).abs().mean())
    assert torch.equal(pixel_l1(a, b, 0.0), (a - b).abs().mean())


def test_the_blur_keeps_a_flat_image_and_its_mean() -> None:
    flat = torch.full((1, 3, 20, 24), 0.4)
    assert torch.allclose(gaussian_blur(flat, 1.5), flat, atol=1e-6)
    image = torch.rand(2, 3, 20, 24)
    blurred = gaussian_blur(image, 2.0)
    assert blurred.shape == image.shape
    assert abs(float(blurred.mean() - image.mean())) < 0.02


def test_fine_texture_where_the_photo_has_none_costs_little_but_a_colour_shift_costs_in_full() -> None:
    photo = torch.zeros(1, 3, 32, 32)
    textured = photo + _checkerboard()  # pixel-scale texture, zero on average
    shifted = photo + 0.3  # the same mean error per pixel, as a wrong colour
    assert pixel_l1(textured, photo) == pytest.approx(0.3)
    assert pixel_l1(textured, photo, 1.5) < 0.01
    assert pixel_l1(shifted, photo, 1.5) == pytest.approx(0.3, abs=1e-5)


def test_gradients_reach_the_render_through_the_blur() -> None:
    fake = torch.rand(1, 3, 16, 16, requires_grad=True)
    pixel_l1(fake, torch.zeros(1, 3, 16, 16), 1.5).backward()
    assert fake.grad is not None and fake.grad.abs().sum() > 0


@pytest.mark.parametrize("sigma", [-1.0, float("nan"), float("inf"), MAX_L1_BLUR_SIGMA + 1])
def test_a_bad_sigma_is_refused_by_name(sigma: float) -> None:
    with pytest.raises(ValueError, match="l1-blur-sigma"):
        TrainConfig(data="d", lambda_l1=10.0, l1_blur_sigma=sigma)


def test_a_blur_without_the_l1_term_is_refused() -> None:
    with pytest.raises(ValueError, match="needs --lambda-l1"):
        TrainConfig(data="d", l1_blur_sigma=1.5)


def test_a_training_step_passes_the_runs_sigma_to_the_l1_term(tiny_data: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import ca2sis.train.steps as steps

    seen: list[float] = []

    def recording(fake: torch.Tensor, real: torch.Tensor, blur_sigma: float = 0.0) -> torch.Tensor:
        seen.append(blur_sigma)
        return pixel_l1(fake, real, blur_sigma)

    monkeypatch.setattr(steps, "pixel_l1", recording)
    cfg = tiny_config(tiny_data, lambda_l1=10.0, l1_blur_sigma=2.0, max_steps=1)
    trainer = Trainer(cfg, preset("tiny"), tmp_path / "run")
    terms = trainer.train_step(next(iter(trainer._loader(0, 0))))
    assert seen == [2.0]
    assert 0 < terms["g_l1"] < float("inf")
