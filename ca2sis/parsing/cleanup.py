"""Turning a raw per-pixel prediction into a mask a person would draw.

Raw argmax masks have speckles (a few "earring" pixels on a cheek), holes (background islands
inside the hair), parts split in two (a nose with a detached blob), and, rarely, swapped sides.
Offending pixels are collected first and then all handed, in one pass, to the nearest pixel that
is kept, so nothing is left unlabeled and the cost does not grow with the number of specks.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage

import ca2sis.photo  # noqa: F401  (first cv2 import: drops its Qt plugin path, see there)
from ca2sis.classes import CELEBAMASK_HQ, ClassTable
from ca2sis.parsing.sides import SIDE_PAIRS  # (left, right) from the subject's point of view

# Parts a face has exactly one of: everything but their largest region is re-assigned.
SINGLE_PARTS = (2, 4, 5, 6, 7, 10, 11, 12)
MIN_FRACTION = 4e-4  # regions under this share of the image are specks (about 100 px at 512²)


def _components(mask: np.ndarray, cls: int) -> tuple[int, np.ndarray, np.ndarray, tuple[int, int]]:
    """Connected regions of one class, labelled inside the class's bounding box only (much faster
    for small parts). Returns (count, labels of the box, stats, box origin x, y)."""
    binary = (mask == cls).astype(np.uint8)
    x, y, w, h = cv2.boundingRect(binary)
    if w == 0:
        return 1, np.zeros((0, 0), np.int32), np.zeros((1, 5), np.int32), (0, 0)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary[y : y + h, x : x + w], connectivity=8)
    return n, labels, stats, (x, y)


def _mark(bad: np.ndarray, labels: np.ndarray, origin: tuple[int, int], ids: np.ndarray) -> None:
    if ids.size:
        x, y = origin
        h, w = labels.shape
        lut = np.zeros(int(labels.max()) + 1, bool)  # a lookup table: np.isin sorts, this indexes
        lut[ids] = True
        bad[y : y + h, x : x + w] |= lut[labels]


def _refill(mask: np.ndarray, bad: np.ndarray) -> None:
    """Give every ``bad`` pixel the label of the nearest good pixel (in place)."""
    if not bad.any() or bad.all():
        return
    idx = ndimage.distance_transform_edt(bad, return_distances=False, return_indices=True)
    mask[bad] = mask[idx[0][bad], idx[1][bad]]


def _present(mask: np.ndarray) -> list[int]:
    return [int(c) for c in np.flatnonzero(np.bincount(mask.ravel()))]


def find_specks(mask: np.ndarray, bad: np.ndarray, min_fraction: float = MIN_FRACTION,
                single_parts: tuple[int, ...] = (), background: int | None = 0) -> None:
    """Mark regions below ``min_fraction`` of the image, and all but the largest region of each
    single part, in ``bad``."""
    min_area = max(4, int(min_fraction * mask.size))
    for cls in _present(mask):
        if cls == background:
            continue
        n, labels, stats, origin = _components(mask, cls)
        if n <= 1:
            continue
        areas = stats[1:, cv2.CC_STAT_AREA]
        drop = areas < min_area
        if cls in single_parts and n > 2:
            drop |= np.arange(n - 1) != np.argmax(areas)
        _mark(bad, labels, origin, np.flatnonzero(drop) + 1)


def find_holes(mask: np.ndarray, bad: np.ndarray, background: int = 0) -> None:
    """Mark background islands that do not touch the image border in ``bad``."""
    n, labels, stats, (x, y) = _components(mask, background)
    h, w = mask.shape
    x0, y0 = stats[1:, 0] + x, stats[1:, 1] + y
    x1, y1 = x0 + stats[1:, 2], y0 + stats[1:, 3]
    inside = (x0 > 0) & (y0 > 0) & (x1 < w) & (y1 < h)
    _mark(bad, labels, (x, y), np.flatnonzero(inside) + 1)


def remove_specks(mask: np.ndarray, min_fraction: float = MIN_FRACTION) -> None:
    """Re-assign regions smaller than ``min_fraction`` of the image (in place)."""
    bad = np.zeros(mask.shape, bool)
    find_specks(mask, bad, min_fraction)
    _refill(mask, bad)


def keep_largest(mask: np.ndarray, parts: tuple[int, ...] = SINGLE_PARTS) -> None:
    """Single parts (nose, mouth, each eye...) keep only their largest region (in place)."""
    bad = np.zeros(mask.shape, bool)
    find_specks(mask, bad, 0.0, parts)
    _refill(mask, bad)


def fill_holes(mask: np.ndarray, background: int = 0) -> None:
    """Background islands that do not touch the image border are holes: fill them (in place)."""
    bad = np.zeros(mask.shape, bool)
    find_holes(mask, bad, background)
    _refill(mask, bad)


def fix_sides(mask: np.ndarray) -> None:
    """Swap a left/right pair when the subject's left part sits on the image's left (in place).

    Only used when both parts are present; assumes an upright face, as aligned crops are.
    """
    for left, right in SIDE_PAIRS:
        l_px, r_px = mask == left, mask == right
        if l_px.any() and r_px.any() and np.nonzero(l_px)[1].mean() < np.nonzero(r_px)[1].mean():
            mask[l_px], mask[r_px] = right, left


def clean_mask(mask: np.ndarray, classes: ClassTable = CELEBAMASK_HQ) -> np.ndarray:
    """All clean-up steps on a copy: sides, then single parts, specks and holes in one refill."""
    out = np.ascontiguousarray(mask, dtype=np.uint8).copy()
    face = classes is CELEBAMASK_HQ
    if face:
        fix_sides(out)
    background = classes.background if classes.background is not None else 0
    bad = np.zeros(out.shape, bool)
    find_specks(out, bad, MIN_FRACTION, SINGLE_PARTS if face else (), background)
    find_holes(out, bad, background)
    _refill(out, bad)
    return out
