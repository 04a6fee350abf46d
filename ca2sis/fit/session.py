"""One fit of a registered photo, run for :meth:`ca2sis.editor.Editor.fit`.

Gathers what the optimisation needs from the editor (the photo at the model's resolution, its style
codes and shape codes, styles and layouts for the locality pool), runs :func:`ca2sis.fit.loop.run_fit`,
registers the result with the editor and measures PSNR before and after through the editor's own
render path (its device and precision), so the numbers are those of what the user sees.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch

from ca2sis.fit.config import FitConfig
from ca2sis.fit.edits import layout_variants
from ca2sis.fit.loop import FitInputs, Progress, run_fit
from ca2sis.fit.state import FitState
from ca2sis.metrics.reconstruction import psnr
from ca2sis.tensors import image_to_tensor

if TYPE_CHECKING:
    from ca2sis.editor import Editor


@dataclass
class FitResult:
    key: str  # the fit's key: name it in RenderRequest.fit to render the photo with it
    face_key: str
    psnr_before: float  # dB at the model's resolution: the base model's reconstruction
    psnr_after: float  # the same with the fit
    seconds: float
    steps: int
    adapter_bytes: int
    state: FitState
    notes: list[str] = field(default_factory=list)


def image_psnr(fake: np.ndarray, real: np.ndarray) -> float:
    """PSNR in dB of two H×W×3 uint8 images (peak 1 on [0, 1])."""
    return float(psnr(image_to_tensor(fake), image_to_tensor(real))[0])


def _other_styles(editor: Editor, face_key: str, styles: torch.Tensor, count: int, seed: int,
                  spread: float) -> torch.Tensor:
    """Styles for the locality pool: the mapping network's, else other registered faces', else noise.

    Mapping samples are pushed ``spread`` times as far from their mean: a mapping network fitted to
    real codes tends to draw them narrower than real faces' (demo-128: about 2/3 of the spread of
    held-out faces' hair codes), and the pool should hold edits as large as a reference's.
    """
    if editor.has_mapping:
        found = [editor.random_styles(seed * 7919 + i) for i in range(count)]
        centre = torch.stack([editor.random_styles(10**6 + seed * 7919 + i) for i in range(64)]).mean(0)
        found = [centre + spread * (s - centre) for s in found]
    else:
        found = [editor._styles_of(k).float().cpu() for k in list(editor._faces) if k != face_key][:count]
    if not found:  # noise with each row's own spread: a stand-in when nothing else is known
        g = torch.Generator().manual_seed(seed)
        rows = styles[0].float().cpu()
        noise = torch.randn(count, *rows.shape, generator=g)
        found = list(noise * rows.std(dim=-1, keepdim=True) + rows.mean(dim=-1, keepdim=True))
    return torch.stack([s.float() for s in found])


@torch.no_grad()
def _other_shapes(editor: Editor, mask: np.ndarray, count: int, seed: int) -> torch.Tensor:
    variants = layout_variants(mask, count, np.random.default_rng(seed))
    shapes = [editor._shapes_of(editor.add_mask(v)).float() for v in variants]
    if not shapes:
        return torch.zeros(0, editor.config.shape_classes, editor.config.token_dim)
    return torch.stack(shapes)


def fit_face(editor: Editor, face_key: str, config: FitConfig, progress: Progress | None = None,
             cancel: Callable[[], bool] | None = None) -> FitResult:
    start = time.perf_counter()
    image, mask = editor._face(face_key)
    device = editor.device
    styles = editor._styles_of(face_key).float()[None]
    shapes = editor._shapes_of(face_key).float()[None]
    onehot = editor._onehot(mask)
    areas = onehot[0].flatten(1).sum(1).float().cpu()
    present = [int(c) for c in torch.argsort(areas, descending=True, stable=True) if areas[c] > 0]
    inputs = FitInputs(
        image=image_to_tensor(image).to(device),
        onehot=onehot.float(),
        styles=styles,
        shapes=shapes,
        present=present,
        other_styles=_other_styles(editor, face_key, styles, config.locality_edits, config.seed,
                                   config.locality_spread).to(device),
        other_shapes=_other_shapes(editor, mask, config.locality_edits, config.seed).to(device),
    )
    before = image_psnr(editor._generate(shapes, styles, None)[0], image)
    # The fit computes as the editor does: under its autocast on CUDA; on a CPU that holds bf16 weights
    # (native bf16 units: about 1.7× faster here) under bf16 autocast. Trainable tensors stay fp32.
    autocast = editor._autocast or (editor.dtype if editor.dtype != torch.float32 else None)
    outcome = run_fit(editor.model.generator, inputs, config, autocast, progress, cancel)
    state = FitState(face_key, editor.fingerprint, editor.model_name, outcome.styles, outcome.adapters, config)
    key = editor.add_fit(state)
    after = image_psnr(editor._generate(shapes, torch.from_numpy(outcome.styles), None,
                                        generator=editor._fitted_generator(key))[0], image)
    seconds = time.perf_counter() - start
    state.metrics.update(psnr_before=before, psnr_after=after, seconds=seconds, steps=config.steps)
    return FitResult(key, face_key, before, after, seconds, config.steps, state.adapter_bytes, state, outcome.notes)
