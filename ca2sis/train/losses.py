"""Adversarial and feature-matching losses of the recipe (hinge GAN, L1 feature matching)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ca2sis.metrics.reconstruction import gaussian_kernel

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
    g = gaussian_kernel(2 * radius + 1, sigma, x.dtype, x.device)
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


def region_gram(features: torch.Tensor, region: torch.Tensor) -> torch.Tensor:
    """Gram matrices (N, C, C) of ``features`` over a soft ``region`` (N, 1, H, W in [0, 1], any size).

    Averaged over the region's area and divided by the channel count, so that layers of any width and
    regions of any size give figures of one scale; an empty region gives zeros.
    """
    n, c, h, w = features.shape
    weight = F.interpolate(region.to(features.dtype), size=(h, w), mode="area").flatten(2)  # (N, 1, HW)
    f = features.flatten(2)
    gram = (f * weight) @ f.transpose(1, 2)
    return gram / (weight.sum(-1, keepdim=True).clamp_min(1e-6) * c)


def texture_loss(fake: list[torch.Tensor], real: list[torch.Tensor], region: torch.Tensor) -> torch.Tensor:
    """Σ over feature depths of mean |Gram(fake) − Gram(real)| inside ``region``, per image with one.

    A texture term in the manner of EnhanceNet (Sajjadi et al., 2017): Gram matrices of a frozen
    network's features hold which patterns a region has and how strongly, not where each one lies, so
    the term asks a render for hair as finely stranded as the photo's without asking for the photo's
    strands in their places, which the per-class styles cannot know.
    """
    present = (region.flatten(1).sum(1) > 0).to(fake[0].dtype)
    total = fake[0].new_zeros(())
    for f, r in zip(fake, real, strict=True):
        diff = (region_gram(f, region) - region_gram(r.detach(), region)).abs().mean((1, 2))
        total = total + (diff * present).sum() / present.sum().clamp_min(1)
    return total


def diversity_loss(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mode-seeking term of the mapping stage: −mean|G(z₁) − G(z₂)|, with the second image detached."""
    return -(a - b.detach()).abs().mean()
