"""The paper's editing operations, as arithmetic on per-class codes.

Style codes are C×D (one row per class, background included); shape codes are K×T with K = C-1 when
the model excludes the background, so class c's shape row is c-1 there. Every function returns a new
tensor and leaves its inputs alone; leading batch dimensions are allowed.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch


def _check_class(cls: int, num_classes: int) -> None:
    if not 0 <= cls < num_classes:
        raise ValueError(f"class id {cls} is outside 0..{num_classes - 1}")


def swap_styles(styles: torch.Tensor, reference: torch.Tensor, classes: Iterable[int]) -> torch.Tensor:
    """Give the listed classes the reference's style rows; the others keep their own."""
    out = styles.clone()
    for c in classes:
        _check_class(c, styles.shape[-2])
        out[..., c, :] = reference[..., c, :]
    return out


def transfer_all_styles(styles: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Every class takes the reference's style (the paper's global transfer); shape is untouched."""
    return reference.clone().expand_as(styles).clone()


def blend_style(styles: torch.Tensor, reference: torch.Tensor, cls: int, alpha: float) -> torch.Tensor:
    """Class ``cls`` moves continuously from its own style (α=0) to the reference's (α=1)."""
    _check_class(cls, styles.shape[-2])
    out = styles.clone()
    out[..., cls, :] = torch.lerp(styles[..., cls, :], reference[..., cls, :], float(alpha))
    return out


def shape_row(cls: int, num_classes: int, exclude_background: bool) -> int:
    """The row of class ``cls`` in the shape codes."""
    _check_class(cls, num_classes)
    if not exclude_background:
        return cls
    if cls == 0:
        raise ValueError("this model has no shape code for the background: its shape is what the other classes leave")
    return cls - 1


def interpolate_shape(codes: torch.Tensor, reference: torch.Tensor, cls: int, alpha: float, num_classes: int,
                      exclude_background: bool = True) -> torch.Tensor:
    """Class ``cls``'s shape code moves from the current mask's (α=0) to the reference mask's (α=1)."""
    row = shape_row(cls, num_classes, exclude_background)
    out = codes.clone()
    out[..., row, :] = torch.lerp(codes[..., row, :], reference[..., row, :], float(alpha))
    return out


def transfer_shape(codes: torch.Tensor, reference: torch.Tensor, cls: int, num_classes: int,
                   exclude_background: bool = True) -> torch.Tensor:
    """Class ``cls`` takes the reference mask's shape code outright (interpolation at α=1)."""
    return interpolate_shape(codes, reference, cls, 1.0, num_classes, exclude_background)


def interpolate_all_shapes(codes: torch.Tensor, reference: torch.Tensor, alpha: float) -> torch.Tensor:
    """The whole layout moves from the current mask (α=0) toward the reference mask (α=1)."""
    return torch.lerp(codes, reference, float(alpha))


def present_classes(onehot: torch.Tensor) -> torch.Tensor:
    """Boolean C vector (or B×C) of the classes that have at least one pixel."""
    return onehot.flatten(-2).sum(-1) > 0


def zero_absent(styles: torch.Tensor, onehot: torch.Tensor) -> torch.Tensor:
    """Zero the style rows of classes absent from the mask (what the authors do for random styles)."""
    return styles * present_classes(onehot)[..., None].to(styles.dtype)


def noise(seed: int, dim: int, count: int = 1) -> torch.Tensor:
    """The mapping network's input for ``seed``, drawn on the CPU so every device sees the same values."""
    g = torch.Generator().manual_seed(int(seed))
    return torch.randn(count, dim, generator=g)
