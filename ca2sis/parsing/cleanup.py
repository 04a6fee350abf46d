"""Turning a raw per-pixel prediction into a mask a person would draw.

Raw argmax masks have speckles (a few "earring" pixels on a cheek), holes (background islands
inside the hair), parts split in two (a nose with a detached blob), and, rarely, swapped sides.
Each fix hands the offending pixels to the class that surrounds them, so nothing is left unlabeled.
"""

from __future__ import annotations

import cv2
import numpy as np

import ca2sis.photo  # noqa: F401  (first cv2 import: drops its Qt plugin path, see there)
from ca2sis.classes import CELEBAMASK_HQ, ClassTable

# Parts a face has exactly one of: everything but their largest region is re-assigned.
SINGLE_PARTS = (2, 4, 5, 6, 7, 10, 11, 12)
# (left, right) pairs from the subject's point of view: the subject's left is the image's right.
SIDE_PAIRS = ((4, 5), (6, 7), (8, 9))


def _absorb(mask: np.ndarray, labels: np.ndarray, stats: np.ndarray, i: int, forbid: int) -> None:
    """Give component ``i``'s pixels the most common other label on its one-pixel border (in place).

    Works inside the component's bounding box (plus one pixel), so thousands of specks stay cheap.
    """
    x, y, w, h = (int(v) for v in stats[i, :4])
    y0, y1 = max(0, y - 1), min(mask.shape[0], y + h + 1)
    x0, x1 = max(0, x - 1), min(mask.shape[1], x + w + 1)
    sub = mask[y0:y1, x0:x1]
    reg = labels[y0:y1, x0:x1] == i
    ring = cv2.dilate(reg.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & ~reg
    around = sub[ring]
    around = around[around != forbid]
    if around.size == 0:
        return  # nothing else touches it (the whole image is this class): leave it
    sub[reg] = np.bincount(around).argmax()


def _components(mask: np.ndarray, cls: int) -> tuple[int, np.ndarray, np.ndarray]:
    """Connected regions of one class, labelled inside the class's bounding box only (much faster
    for small parts); ``labels`` is full-size and ``stats`` are in image coordinates."""
    binary = (mask == cls).astype(np.uint8)
    x, y, w, h = cv2.boundingRect(binary)
    labels = np.zeros(mask.shape, np.int32)
    if w == 0:
        return 1, labels, np.zeros((1, 5), np.int32)
    n, sub, stats, _ = cv2.connectedComponentsWithStats(binary[y : y + h, x : x + w], connectivity=8)
    labels[y : y + h, x : x + w] = sub
    stats[:, 0] += x
    stats[:, 1] += y
    return n, labels, stats


def remove_specks(mask: np.ndarray, min_fraction: float = 4e-4, classes: range | None = None) -> None:
    """Re-assign regions smaller than ``min_fraction`` of the image (in place)."""
    min_area = max(4, int(min_fraction * mask.size))
    present = np.flatnonzero(np.bincount(mask.ravel(), minlength=1))
    for cls in classes or [int(c) for c in present if c != 0]:
        n, labels, stats = _components(mask, cls)
        for i in range(1, n):
            if stats[i, cv2.CC_STAT_AREA] < min_area:
                _absorb(mask, labels, stats, i, cls)


def keep_largest(mask: np.ndarray, parts: tuple[int, ...] = SINGLE_PARTS) -> None:
    """Single parts (nose, mouth, each eye...) keep only their largest region (in place)."""
    present = set(np.flatnonzero(np.bincount(mask.ravel())).tolist())
    for cls in (p for p in parts if p in present):
        n, labels, stats = _components(mask, cls)
        if n <= 2:
            continue
        biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        for i in range(1, n):
            if i != biggest:
                _absorb(mask, labels, stats, i, cls)


def fill_holes(mask: np.ndarray, background: int = 0) -> None:
    """Background islands that do not touch the image border are holes: fill them (in place)."""
    n, labels, stats = _components(mask, background)
    h, w = mask.shape
    for i in range(1, n):
        x, y, bw, bh = stats[i, :4]
        if x > 0 and y > 0 and x + bw < w and y + bh < h:
            _absorb(mask, labels, stats, i, background)


def fix_sides(mask: np.ndarray, classes: ClassTable = CELEBAMASK_HQ) -> None:
    """Swap a left/right pair when the subject's left part sits on the image's left (in place).

    Only used when both parts are present; assumes an upright face, as aligned crops are.
    """
    for left, right in SIDE_PAIRS:
        l_px, r_px = mask == left, mask == right
        if l_px.any() and r_px.any() and np.nonzero(l_px)[1].mean() < np.nonzero(r_px)[1].mean():
            mask[l_px], mask[r_px] = right, left


def clean_mask(mask: np.ndarray, classes: ClassTable = CELEBAMASK_HQ) -> np.ndarray:
    """All clean-up steps on a copy: sides, single parts, specks, holes."""
    out = np.ascontiguousarray(mask, dtype=np.uint8).copy()
    if classes is CELEBAMASK_HQ:
        fix_sides(out)
        keep_largest(out)
    remove_specks(out)
    fill_holes(out, classes.background if classes.background is not None else 0)
    return out
