"""One optimisation step of each network, for the main stage and the mapping stage.

Main stage (per iteration: G step, then D step on fresh no-grad fakes):
    L_G = λ_gan·hinge_G + λ_feat·FM + λ_perc·perceptual + λ_att·attention
    L_D = hinge(real) + hinge(fake)
Mapping stage (G frozen, only the mapping network learns):
    L_M = λ_gan·hinge_G + λ_att·attention + λ_div·diversity
Fake and real go through D as one batch, fakes first, through the run's differentiable augmentation
(``--diffaugment``; the n-th fake and the n-th real share one draw, and the masks move with them).
Optional, off in the recipe: ``λ_l1·|fake − real|`` (``--lambda-l1``), a pixel reconstruction term,
on images blurred by ``--l1-blur-sigma`` pixels when that is > 0; and ``λ_texture·texture`` (``--lambda-texture``),
Gram matrices of the perceptual network's features compared inside ``--texture-classes``.
With λ_gan = λ_feat = 0 the discriminator is neither used nor trained (e.g. ``--style-encoder-only``
refining the encoder of a trained generator on reconstruction terms alone).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass

import torch
from torch import nn

from ca2sis.train.augment import DiffAugment
from ca2sis.train.config import TrainConfig
from ca2sis.train.losses import (
    d_hinge_loss,
    diversity_loss,
    feature_matching_loss,
    g_hinge_loss,
    pixel_l1,
    split_real_fake,
)


@dataclass
class Nets:
    """The networks a step needs; ``*_ddp`` are the DDP wrappers (or the bare modules)."""

    G: nn.Module
    D: nn.Module
    G_ddp: nn.Module
    D_ddp: nn.Module
    perceptual: nn.Module | None
    augment: DiffAugment | None = None
    texture_ids: tuple[int, ...] = ()  # the classes of the texture term (--lambda-texture)


def _discriminate(nets: Nets, D: nn.Module, onehot: torch.Tensor, fake: torch.Tensor, real: torch.Tensor):
    images, masks = torch.cat([fake, real]), torch.cat([onehot, onehot])
    if nets.augment is not None:
        images, masks = nets.augment(images, masks, repeats=2)
    out = D(masks, images)
    return split_real_fake(out, fake.shape[0])


def generator_losses(
    nets: Nets, cfg: TrainConfig, image: torch.Tensor, onehot: torch.Tensor, autocast: AbstractContextManager
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Main stage G losses on a reconstruction pass (D is used without its DDP wrapper: no D sync here)."""
    terms: dict[str, torch.Tensor] = {}
    with autocast:
        out = nets.G_ddp(image, onehot)
        fake = out.image
        if cfg.adversarial:
            pred_fake, pred_real = _discriminate(nets, nets.D, onehot, fake, image)
            terms["g_gan"] = g_hinge_loss(pred_fake).float()
            terms["g_feat"] = feature_matching_loss(pred_fake, pred_real).float()
    if nets.perceptual is not None and (cfg.lambda_perceptual or cfg.lambda_texture):
        region = onehot[:, list(nets.texture_ids)].sum(1, keepdim=True) if cfg.lambda_texture else None
        terms["g_perc"], texture = nets.perceptual.compare(fake.float(), image.float(), region)
        if texture is not None:
            terms["g_texture"] = texture
    if out.attention_loss is not None:
        terms["g_att"] = out.attention_loss.float()
    if cfg.lambda_l1:
        terms["g_l1"] = pixel_l1(fake.float(), image.float(), cfg.l1_blur_sigma)
    weights = {
        "g_gan": cfg.lambda_gan,
        "g_feat": cfg.lambda_feat,
        "g_perc": cfg.lambda_perceptual,
        "g_att": cfg.lambda_att,
        "g_l1": cfg.lambda_l1,
        "g_texture": cfg.lambda_texture,
    }
    total = sum(weights[k] * v for k, v in terms.items())
    return total, terms  # type: ignore[return-value]


def discriminator_losses(
    nets: Nets, fake: torch.Tensor, image: torch.Tensor, onehot: torch.Tensor, autocast: AbstractContextManager
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    with autocast:
        pred_fake, pred_real = _discriminate(nets, nets.D_ddp, onehot, fake.detach(), image)
    real_loss, fake_loss = d_hinge_loss(pred_real, pred_fake)
    terms = {"d_real": real_loss.float(), "d_fake": fake_loss.float()}
    return terms["d_real"] + terms["d_fake"], terms


@torch.no_grad()
def reconstruct(G: nn.Module, image: torch.Tensor, onehot: torch.Tensor) -> torch.Tensor:
    """Fakes for the D step: a second, gradient-free pass (the recipe does not reuse the G-step fakes)."""
    return G.generate(G.embed_mask(onehot), G.encode_style(image, onehot)).image


def random_styles(G: nn.Module, onehot: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Mapping-network styles with the rows of classes absent from the mask zeroed."""
    present = (onehot.flatten(2).sum(-1) > 0).to(z.dtype)
    return G.sample_styles(z) * present[..., None]


def mapping_losses(
    nets: Nets,
    cfg: TrainConfig,
    onehot: torch.Tensor,
    image: torch.Tensor,
    z1: torch.Tensor,
    z2: torch.Tensor,
    autocast: AbstractContextManager,
) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
    G = nets.G
    with autocast:
        with torch.no_grad():
            shape = G.embed_mask(onehot)
        out1 = G.generate(shape, random_styles(G, onehot, z1), attention_target=onehot)
        out2 = G.generate(shape, random_styles(G, onehot, z2))
        pred_fake, _ = _discriminate(nets, nets.D, onehot, out1.image, image)
    terms = {
        "m_gan": g_hinge_loss(pred_fake).float(),
        "m_div": diversity_loss(out1.image.float(), out2.image.float()),
    }
    if out1.attention_loss is not None:
        terms["m_att"] = out1.attention_loss.float()
    weights = {"m_gan": cfg.lambda_gan, "m_div": cfg.lambda_div, "m_att": cfg.lambda_att}
    total = sum(weights[k] * v for k, v in terms.items())
    return total, out1.image.detach(), terms  # type: ignore[return-value]
