"""The locality pool's edits: what the tuned generator must keep doing as the base one does.

Pivotal tuning makes the generator reproduce one photo; left alone it also learns to ignore the codes
(a hair-style swap would then change little). The fit therefore keeps a pool of edits of the photo,
and asks that the *change* each edit makes stays the change the base generator makes: style edits
(one class's style row replaced by another style) and shape edits (one class's region grown or shrunk
in the layout, embedded again).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def grown_or_shrunk(mask: np.ndarray, cls: int, pixels: int) -> np.ndarray:
    """``mask`` with class ``cls`` grown (``pixels`` > 0) or shrunk (< 0) by about ``pixels``.

    Growing takes over neighbouring pixels; shrinking gives the freed pixels to the nearest other class.
    """
    region = mask == cls
    out = mask.copy()
    if pixels > 0:
        out[ndimage.binary_dilation(region, iterations=pixels)] = cls
        return out
    kept = ndimage.binary_erosion(region, iterations=-pixels)
    freed = region & ~kept
    if not freed.any() or region.all():
        return out
    _, (iy, ix) = ndimage.distance_transform_edt(region, return_indices=True)
    out[freed] = mask[iy[freed], ix[freed]]
    return out


def layout_variants(mask: np.ndarray, count: int, rng: np.random.Generator, exclude: tuple[int, ...] = (0,)
                    ) -> list[np.ndarray]:
    """``count`` layouts that each grow or shrink one of the larger classes by 2–6 % of the side."""
    ids, sizes = np.unique(mask, return_counts=True)
    keep = [(int(c), int(n)) for c, n in zip(ids, sizes, strict=True) if int(c) not in exclude and n >= 16]
    if not keep:
        return []
    keep.sort(key=lambda t: -t[1])
    classes = [c for c, _ in keep[:6]]
    side = mask.shape[0]
    out = []
    for i in range(count):
        cls = classes[i % len(classes)]
        pixels = max(1, round(side * rng.uniform(0.02, 0.06)))
        variant = grown_or_shrunk(mask, cls, pixels if i % 2 == 0 else -pixels)
        if not np.array_equal(variant, mask):
            out.append(variant)
    return out


def style_edit_rows(present: list[int], count: int) -> list[int]:
    """Which class's style row each style edit replaces: the largest classes first (``present`` is
    ordered by area), cycling when there are more edits than classes. Large regions are where a
    generator tuned to one photo most easily stops listening to its style codes."""
    if not present:
        return []
    return [present[i % len(present)] for i in range(count)]
