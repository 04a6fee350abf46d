"""Adversarial and feature-matching losses of the recipe (hinge GAN, L1 feature matching)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

# A discriminator's output: one list per scale, intermediate features first, patch logits last.
DOutput = list[list[torch.Tensor]]


def split_real_fake(outputs: DOutput, num_fake: int) -> tuple[DOutput, DOutput]:
    """Fake and real go through D as one batch (fake first); split every tensor back."""
    fake = [[t[:num_fake] for t in scale] for scale in outputs]
    real = [[t[num_fake:] for t in scale] for scale in outputs]
    return fake, real


def d_hinge_loss(real: DOutput, fake: DOutput) -> tuple[torch.Tensor, torch.Tensor]:
    """Hinge loss of D on real and fake logits, each averaged over the scales."""
    loss_real = torch.stack([F.relu(1.0 - s[-1]).mean() for s in real]).mean()
    loss_fake = torch.stack([F.relu(1.0 + s[-1]).mean() for s in fake]).mean()
    return loss_real, loss_fake


def g_hinge_loss(fake: DOutput) -> torch.Tensor:
    """Generator side of the hinge GAN: −mean D(fake), averaged over the scales."""
    return torch.stack([-s[-1].mean() for s in fake]).mean()


def feature_matching_loss(fake: DOutput, real: DOutput) -> torch.Tensor:
    """Σ over scales and intermediate layers of L1(D_feat(fake), D_feat(real)), divided by the scale count.

    A sum over layers (not a mean), as in the recipe; the caller multiplies by λ_feat.
    """
    total = fake[0][0].new_zeros(())
    for f_scale, r_scale in zip(fake, real, strict=True):
        for f, r in zip(f_scale[:-1], r_scale[:-1], strict=True):
            total = total + F.l1_loss(f, r.detach())
    return total / len(fake)


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of an (N, C, H, W) batch, edge pixels repeated outside the image."""
    radius = max(1, math.ceil(3 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    g = torch.exp(-(t**2) / (2 * sigma**2))
    g = g / g.sum()
    c = x.shape[1]
    x = F.pad(x, (radius,) * 4, mode="replicate")
    x = F.conv2d(x, g.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(x, g.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def pixel_l1(fake: torch.Tensor, real: torch.Tensor, blur_sigma: float = 0.0) -> torch.Tensor:
    """Mean |fake − real|, on both images blurred by a Gaussian of ``blur_sigma`` pixels when it is > 0.

    Blurred, the term still asks for the photo's colours and shading, but a render whose fine texture
    (strands, pores) lies elsewhere than the photo's costs nothing more than one with it smoothed away.
    """
    if blur_sigma > 0:
        fake, real = gaussian_blur(fake, blur_sigma), gaussian_blur(real, blur_sigma)
    return (fake - real).abs().mean()


def diversity_loss(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mode-seeking term of the mapping stage: −mean|G(z₁) − G(z₂)|, with the second image detached."""
    return -(a - b.detach()).abs().mean()
