"""Morphing class regions between two masks with signed distance fields.

The model interpolates shape codes; baking that morph into the painted mask needs a mask-space
counterpart. Interpolating signed distances (negative inside) and taking the zero level set gives a
smooth, topology-tolerant blend that ends exactly at the current mask (α = 0) and at the reference
region (α = 1), which is what "apply to mask" promises.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
from scipy import ndimage

from ca2sis.requests import ShapeSource


def signed_distance(region: np.ndarray) -> np.ndarray:
    """Euclidean signed distance to the region's border: negative inside, positive outside."""
    region = region.astype(bool)
    if not region.any():
        return np.full(region.shape, 1e6, dtype=np.float32)
    if region.all():
        return np.full(region.shape, -1e6, dtype=np.float32)
    outside = ndimage.distance_transform_edt(~region)
    inside = ndimage.distance_transform_edt(region)
    return (outside - inside).astype(np.float32)


def resize_nearest(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if mask.shape == shape:
        return mask
    ys = (np.arange(shape[0]) * mask.shape[0] / shape[0]).astype(int)
    xs = (np.arange(shape[1]) * mask.shape[1] / shape[1]).astype(int)
    return mask[ys][:, xs]


def morph_class(
    mask: np.ndarray, reference: np.ndarray, cls: int, alpha: float, locked: Iterable[int] = ()
) -> np.ndarray:
    """A copy of ``mask`` whose region of ``cls`` is morphed ``alpha`` of the way to the reference's.

    Pixels the class gains are taken from any unlocked class; pixels it loses get the nearest label
    that is not ``cls`` (so a shrinking mouth is filled by the lips and skin around it).
    """
    reference = resize_nearest(reference, mask.shape)
    sdf = (1.0 - alpha) * signed_distance(mask == cls) + alpha * signed_distance(reference == cls)
    target = sdf < 0
    lost = (mask == cls) & ~target
    gained = target & (mask != cls)
    locked = list(locked)
    if locked:  # locked classes neither give up pixels nor lose them
        protected = np.isin(mask, locked)
        gained &= ~protected
        lost &= ~protected
    out = mask.copy()
    if lost.any():
        others = mask != cls
        if others.any():
            # Index of the nearest non-cls pixel for every pixel: that pixel's label fills the hole.
            _, (iy, ix) = ndimage.distance_transform_edt(~others, return_indices=True)
            out[lost] = mask[iy[lost], ix[lost]]
        else:
            out[lost] = 0
    out[gained] = cls
    return out


def morph_all(
    mask: np.ndarray, reference: np.ndarray, alpha: float, num_classes: int, locked: Iterable[int] = ()
) -> np.ndarray:
    """The whole face morphed toward the reference: each pixel takes the class with the smallest
    interpolated signed distance (the class it is most deeply inside). Locked classes keep exactly
    their pixels: they neither change nor spread."""
    reference = resize_nearest(reference, mask.shape)
    best = np.full(mask.shape, np.inf, dtype=np.float32)
    out = mask.copy()
    present = set(np.unique(mask).tolist()) | set(np.unique(reference).tolist())
    for cls in sorted(present):
        if cls >= num_classes:
            continue
        sdf = (1.0 - alpha) * signed_distance(mask == cls) + alpha * signed_distance(reference == cls)
        better = sdf < best
        best[better] = sdf[better]
        out[better] = cls
    locked = list(locked)
    if locked:
        frozen = np.isin(mask, locked) | np.isin(out, locked)
        out[frozen] = mask[frozen]
    return out


def morph_layout(
    mask: np.ndarray, references: Mapping[str, np.ndarray], shapes: Mapping[int, ShapeSource],
    shape_all: ShapeSource | None, num_classes: int, locked: Iterable[int] = ()
) -> np.ndarray:
    """The mask with every shape morph baked in: the whole face first, then each class in turn (what
    "Apply to mask" writes; ``references`` maps a reference's key to its mask)."""
    locked = list(locked)
    out = mask.copy()
    if shape_all is not None:
        out = morph_all(out, references[shape_all.reference], shape_all.alpha, num_classes, locked)
    for cls, source in sorted(shapes.items()):
        out = morph_class(out, references[source.reference], cls, source.alpha, locked)
    return out


def outlines(labels: np.ndarray, classes: Iterable[int] | None = None) -> np.ndarray:
    """Boolean map of the border pixels of the regions of ``classes`` (every class's when None)."""
    if classes is None:
        edge = np.zeros(labels.shape, bool)
        edge[:-1] |= labels[:-1] != labels[1:]
        edge[:, :-1] |= labels[:, :-1] != labels[:, 1:]
        return edge
    edge = np.zeros(labels.shape, bool)
    for cls in classes:
        region = labels == cls
        edge |= region & ~ndimage.binary_erosion(region, border_value=1)
    return edge
