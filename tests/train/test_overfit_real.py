"""Slow: the full recipe overfits a few real CelebAMask-HQ pairs (reconstruction L1 falls clearly)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import load_script

ROOT = Path(__file__).resolve().parents[2]
MINI = ROOT / ".." / "shared" / "data" / "celebamask-mini"


@pytest.mark.slow
def test_reconstruction_l1_falls_when_overfitting_eight_real_pairs() -> None:
    if not (MINI / "images").is_dir():
        pytest.skip(f"real pairs not available: {MINI.resolve()} is missing (the shared data folder)")
    overfit = load_script(ROOT / "bench" / "overfit.py")
    result = overfit.overfit(
        MINI, "tiny", steps=400, pairs=8, perceptual="inception", every=100, threads=1, lr_g=1e-4, lr_d=4e-4, batch=4
    )
    assert result["last_l1"] < 0.8 * result["first_l1"], result["curve"]


@pytest.mark.slow
def test_vgg19_perceptual_loss_reads_a_torchvision_file(tmp_path: Path) -> None:
    import torch
    from torchvision.models import vgg19

    from ca2sis.train.perceptual import PerceptualLoss

    torch.manual_seed(0)
    features = {f"features.{k}": v for k, v in vgg19(weights=None).features.state_dict().items()}
    path = tmp_path / "vgg19-dcbb9e9d.pth"
    torch.save(features, path)
    loss = PerceptualLoss("vgg19", vgg_weights=path, download=False)
    fake = torch.rand(1, 3, 32, 32, requires_grad=True)
    value = loss(fake * 2 - 1, torch.zeros(1, 3, 32, 32))
    value.backward()
    assert value.item() > 0 and fake.grad is not None
    assert not any(p.requires_grad for p in loss.parameters())
