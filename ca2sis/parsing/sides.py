"""Which way a mask names left and right.

CelebAMask-HQ names paired parts from the subject's point of view: ``l_eye`` is the subject's left
eye, on the image's right. About 7% of its masks (63 of the 900 in the shared mini set, 11 of the
120 held-out pairs) follow the other convention for the whole face: every ``l_`` part on the
image's left. The photos give no hint of it, so a parser can only follow the majority, and on those
faces every eye, brow and ear pixel counts as wrong. :func:`follows_other_convention` finds such
masks and :func:`standard_sides` renames their parts, so that a benchmark can report how much of a
parser's error is this naming (``bench/parsing.py``) and a training run can learn one convention.
"""

from __future__ import annotations

import numpy as np

from ca2sis.classes import CELEBAMASK_HQ

NOSE = 2
# (subject's left, subject's right): eyes, brows, ears.
SIDE_PAIRS = ((4, 5), (6, 7), (8, 9))


def _mean_x(mask: np.ndarray, cls: int) -> float | None:
    xs = np.nonzero(mask == cls)[1]
    return float(xs.mean()) if xs.size else None


def side_votes(mask: np.ndarray) -> tuple[int, int]:
    """(parts named as CelebAMask-HQ mostly does, parts named the other way).

    A pair with both parts present votes by their order across the image; a part without its twin
    votes by which side of the nose it lies on.
    """
    mask = np.asarray(mask)
    standard = other = 0
    nose = _mean_x(mask, NOSE)
    for left, right in SIDE_PAIRS:
        lx, rx = _mean_x(mask, left), _mean_x(mask, right)
        if lx is not None and rx is not None:
            if lx == rx:
                continue
            standard, other = (standard + 1, other) if lx > rx else (standard, other + 1)
        elif nose is not None:
            for x, is_left in ((lx, True), (rx, False)):
                if x is None or x == nose:
                    continue
                # The subject's left part lies on the image's right of the nose.
                if (x > nose) == is_left:
                    standard += 1
                else:
                    other += 1
    return standard, other


def follows_other_convention(mask: np.ndarray) -> bool:
    """True when most of the mask's paired parts are named the other way round."""
    standard, other = side_votes(mask)
    return other > standard


def standard_sides(mask: np.ndarray) -> np.ndarray:
    """The mask with its left/right names following CelebAMask-HQ's majority convention (a copy
    when renamed, the same array when it already did)."""
    mask = np.asarray(mask)
    if not follows_other_convention(mask):
        return mask
    return CELEBAMASK_HQ.flip_lut()[mask]
