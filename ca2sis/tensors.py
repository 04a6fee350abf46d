"""Conversions between the arrays people have (uint8 photos, index masks) and model tensors."""

from __future__ import annotations

import numpy as np
import torch


def one_hot(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Index labels B×H×W (integer) → float one-hot B×C×H×W.

    Raises with the offending value when a label is outside 0..C-1, instead of the opaque CUDA
    assertion or silent garbage a scatter would give.
    """
    if labels.dtype.is_floating_point or labels.dtype == torch.bool:
        raise TypeError(f"labels must be an integer tensor, got {labels.dtype}")
    if labels.dim() != 3:
        raise ValueError(f"labels must be B×H×W, got shape {tuple(labels.shape)}")
    if labels.numel():
        lo, hi = int(labels.min()), int(labels.max())
        if lo < 0 or hi >= num_classes:
            bad = hi if hi >= num_classes else lo
            raise ValueError(f"mask holds class id {bad}, outside 0..{num_classes - 1}")
    out = torch.zeros(labels.shape[0], num_classes, *labels.shape[1:], device=labels.device)
    return out.scatter_(1, labels.long().unsqueeze(1), 1.0)


def image_to_tensor(image: np.ndarray) -> torch.Tensor:
    """H×W×3 uint8 RGB → 1×3×H×W float in [-1, 1]."""
    arr = np.ascontiguousarray(image)
    if not arr.flags.writeable:  # torch.from_numpy warns on read-only buffers (e.g. decoded PNGs)
        arr = arr.copy()
    return torch.from_numpy(arr).permute(2, 0, 1)[None].float() / 127.5 - 1.0


def tensor_to_image(x: torch.Tensor) -> np.ndarray:
    """1×3×H×W (or 3×H×W) in [-1, 1] → H×W×3 uint8, rounding (x+1)·127.5."""
    if x.dim() == 4:
        x = x[0]
    x = ((x.detach().float().clamp(-1, 1) + 1.0) * 127.5).round()
    return x.to(torch.uint8).permute(1, 2, 0).cpu().numpy()

