"""Does a fitted photo still edit? Measurable criteria, shared by the benchmark and the tests.

Both edits are run through :meth:`Editor.render` on the photo's own layout, once with the fit and
once without, with the same reference face:

* **style swap** of one class (hair): the change ``|after − before|`` (mean over RGB, in [0, 1])
  should lie mostly inside the class region dilated by 3 px (``swap_share`` ≥ 0.8), and its mean over
  the class region should keep ≥ 60 % of what the unfitted model changes there (``swap_strength``).
* **shape interpolation** of that class toward the reference's (α = 1): the outline moves where the
  two regions differ (their XOR, the *band*). ``outline_strength`` is the mean change in the band; it
  should keep ≥ 50 % of the unfitted model's, and the band should change more than the rest of the
  image (``outline_contrast`` = band mean / mean elsewhere ≥ 1.5), i.e. the change is the outline.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage

from ca2sis.inputs import resize_mask
from ca2sis.requests import RenderRequest, ShapeSource, StyleSource

SWAP_SHARE_MIN = 0.8
SWAP_STRENGTH_RATIO_MIN = 0.6
OUTLINE_RATIO_MIN = 0.5
OUTLINE_CONTRAST_MIN = 1.5
DILATION = 3


@dataclass
class EditScores:
    swap_share: float  # share of the style swap's change inside the dilated class region
    swap_strength: float  # mean change inside the class region
    outline_strength: float  # mean change of the shape interpolation inside the band
    outline_contrast: float  # that mean over the mean change outside the band
    band_fraction: float  # share of the image in the band (how far the two outlines differ)

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


def change_map(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Per-pixel mean absolute RGB change in [0, 1]."""
    return np.abs(after.astype(np.float32) - before.astype(np.float32)).mean(-1) / 255.0


def edit_scores(editor, face_key: str, reference_key: str, cls: int, fit: str | None) -> EditScores:
    """Swap and shape-interpolate class ``cls`` from the reference on the photo's own layout."""
    mask = editor._face(face_key)[1]
    ref_mask = editor._face(reference_key)[1]
    size = editor.resolution
    layout = editor.add_mask(mask)
    base = RenderRequest.build(layout, face_key, fit=fit)
    before = editor.render(base).image
    swapped = editor.render(RenderRequest.build(layout, face_key, {cls: StyleSource("reference", reference_key)},
                                                fit=fit)).image
    morphed = editor.render(RenderRequest.build(layout, face_key, shapes={cls: ShapeSource(reference_key, 1.0)},
                                                fit=fit)).image
    region = resize_mask(mask, size) == cls
    change = change_map(before, swapped)
    dilated = ndimage.binary_dilation(region, iterations=DILATION)
    share = float(change[dilated].sum() / max(change.sum(), 1e-12))
    strength = float(change[region].mean()) if region.any() else 0.0
    band = region ^ (resize_mask(ref_mask, size) == cls)
    moved = change_map(before, morphed)
    inside = float(moved[band].mean()) if band.any() else 0.0
    outside = float(moved[~band].mean()) if (~band).any() else 0.0
    return EditScores(share, strength, inside, inside / max(outside, 1e-6), float(band.mean()))


def verdict(fitted: EditScores, unfitted: EditScores) -> dict[str, bool]:
    """Which of the criteria above the fitted photo meets, against the unfitted model on the same edit."""
    return {
        "swap_share": fitted.swap_share >= SWAP_SHARE_MIN,
        "swap_strength": fitted.swap_strength >= SWAP_STRENGTH_RATIO_MIN * unfitted.swap_strength,
        "outline_strength": fitted.outline_strength >= OUTLINE_RATIO_MIN * unfitted.outline_strength,
        "outline_contrast": fitted.outline_contrast >= OUTLINE_CONTRAST_MIN,
    }
