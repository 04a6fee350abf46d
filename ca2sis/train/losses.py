"""Adversarial and feature-matching losses of the recipe (hinge GAN, L1 feature matching)."""

from __future__ import annotations

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


def diversity_loss(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mode-seeking term of the mapping stage: −mean|G(z₁) − G(z₂)|, with the second image detached."""
    return -(a - b.detach()).abs().mean()
