"""Starting the mapping network where the real style codes are (``--mapping-init data``).

A freshly initialised mapping network puts every class's style near zero with almost no spread, so
at the start of the mapping stage all noise vectors give the same washed-out face, the diversity
term has nothing to work with, and a discriminator taken from the main stage wins at once. Fitting
each class head's last layer to the per-class mean and spread of the style encoder's codes on the
training faces starts the stage from a Gaussian model of the real styles instead: the noise drives
each class along the main directions in which real styles of that class vary (their top principal
components, as many as the noise has dimensions), with the measured spread. The adversarial and
diversity terms then refine it. The objective is unchanged, only the starting point.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import torch

from ca2sis.model import CA2SIS

log = logging.getLogger(__name__)


@torch.no_grad()
def style_statistics(
    G: CA2SIS, batches: Iterable[tuple[torch.Tensor, torch.Tensor]]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-class mean (C×D) and covariance (C×D×D) of the style codes of the classes a face shows, and
    how many faces showed each class (C). ``batches`` yields (image in [-1, 1], one-hot)."""
    total = count = outer = None
    for image, onehot in batches:
        styles = G.encode_style(image, onehot).float()  # B×C×D
        present = (onehot.flatten(2).sum(-1) > 0).float()  # B×C
        if total is None:
            total = torch.zeros_like(styles[0])
            outer = styles.new_zeros(styles.shape[1], styles.shape[2], styles.shape[2])
            count = torch.zeros(styles.shape[1], device=styles.device)
        masked = styles * present[..., None]
        total += masked.sum(0)
        outer += torch.einsum("bcd,bce->cde", masked, styles)
        count += present.sum(0)
    if total is None:
        raise ValueError("no faces to measure the style codes on")
    n = count.clamp_min(1)
    mean = total / n[:, None]
    cov = outer / n[:, None, None] - mean[:, :, None] * mean[:, None, :]
    return mean, cov, count


def _top_components(cov: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The k largest eigenvalues (clamped at 0) and their eigenvectors (columns) of a covariance."""
    values, vectors = torch.linalg.eigh(cov.double())
    return values[-k:].clamp_min(0).flip(0), vectors[:, -k:].flip(1)


@torch.no_grad()
def fit_mapping(G: CA2SIS, mean: torch.Tensor, cov: torch.Tensor, count: torch.Tensor,
                samples: int = 8192, seed: int = 0) -> None:
    """Set each class head's last linear layer so that, over z ~ N(0, I), its outputs have the
    measured mean and vary along the class's top principal components with their measured spread.
    Heads of classes that fewer than two faces showed are left as they are."""
    mapping = G.mapping
    device = next(mapping.parameters()).device
    z = torch.randn(samples, mapping.noise_dim, generator=torch.Generator().manual_seed(seed)).to(device)
    hidden = mapping.trunk(z).float()
    for c, head in enumerate(mapping.heads):
        if count[c] < 2:
            continue
        last = head[-1]
        feats = head[:-1](hidden).double()
        centre = feats.mean(0)
        k = min(mapping.noise_dim, feats.shape[1], mean.shape[1])
        f_var, f_dirs = _top_components(torch.cov(feats.T), k)
        keep = f_var > 1e-10 * f_var.max().clamp_min(1e-30)  # features that actually vary with z
        whiten = (f_dirs[:, keep] / f_var[keep].sqrt()).T  # k×H: unit-variance, uncorrelated coordinates
        s_var, s_dirs = _top_components(cov[c].to(device), int(keep.sum()))
        weight = s_dirs * s_var.sqrt() @ whiten  # D×H
        last.weight.copy_(weight.to(last.weight.dtype))
        last.bias.copy_((mean[c].to(device).double() - weight @ centre).to(last.bias.dtype))


def init_mapping_from_data(G: CA2SIS, batches: Iterable[tuple[torch.Tensor, torch.Tensor]]) -> None:
    mean, cov, count = style_statistics(G, batches)
    fit_mapping(G, mean, cov, count)
    spread = torch.diagonal(cov, dim1=1, dim2=2).clamp_min(0).sqrt()
    log.info("mapping network fitted to the style codes of %d faces (mean spread %.3f)",
             int(count.max()), float(spread[count > 1].mean()))
