"""Pasting an edited face back: only the person, feathered, colour-matched, no seam at the crop's border."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ca2sis.classes import CELEBAMASK_HQ, ClassTable
from ca2sis.data.scenes import procedural_texture
from ca2sis.photo.align import TEMPLATE_512, FaceBox, align_face, paste_back, paste_edit, paste_region

HAIR, SKIN, NECK, CLOTH = 13, 1, 17, 18
X0, Y0, SCALE = 70, 50, 0.8  # where the aligned square lies in the photo: upright, so its border is rows/columns


def drawn_mask() -> np.ndarray:
    """A 512² layout: hair, a face, a neck down to the crop's bottom edge, cloth at the bottom corners."""
    mask = np.zeros((512, 512), np.uint8)
    cv2.ellipse(mask, (256, 230), (170, 190), 0, 0, 360, HAIR, -1)
    cv2.ellipse(mask, (256, 280), (120, 150), 0, 0, 360, SKIN, -1)
    mask[400:, 200:312] = NECK
    mask[470:, :150] = CLOTH
    mask[470:, 362:] = CLOTH
    return mask


def photo_and_transform(seed: int = 0):
    photo = procedural_texture(np.random.default_rng(seed), (600, 560))
    face = FaceBox((0, 0, 1, 1), TEMPLATE_512 * SCALE + [X0, Y0])
    aligned, t = align_face(photo, face, 512)
    return photo, aligned, t


def generated(aligned: np.ndarray, mask: np.ndarray, background: int = 20, drift: int = 12) -> np.ndarray:
    """What a generator gives back: the face a little off in colour and smoother than the photo, its
    own flat background and clothes."""
    out = np.clip(cv2.GaussianBlur(aligned, (0, 0), 3).astype(int) + drift, 0, 255).astype(np.uint8)
    out[mask == 0] = background
    out[mask == CLOTH] = 240
    return out


def crop_rows_and_columns(t, inside: int, outside: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Photo index pairs (a row or column inside, one outside) along the crop's four borders."""
    side = 512 / t.scale  # the square's side in photo pixels
    x0, y0, x1, y1 = X0, Y0, int(X0 + side), int(Y0 + side)
    ys, xs = slice(y0 + 8, y1 - 8), slice(x0 + 8, x1 - 8)
    return [(np.s_[y0 + inside, xs], np.s_[y0 - outside, xs]), (np.s_[y1 - inside, xs], np.s_[y1 + outside, xs]),
            (np.s_[ys, x0 + inside], np.s_[ys, x0 - outside]), (np.s_[ys, x1 - inside], np.s_[ys, x1 + outside])]


def seam(export: np.ndarray, photo: np.ndarray, t, inside: int = 12, outside: int = 2) -> float:
    diff = export.astype(float).mean(2) - photo.astype(float).mean(2)
    return max(float(np.abs(diff[i] - diff[o]).mean()) for i, o in crop_rows_and_columns(t, inside, outside))


def test_no_straight_seam_along_the_crops_rows_and_columns():
    photo, aligned, t = photo_and_transform()
    mask = drawn_mask()
    result = generated(aligned, mask)
    export = paste_edit(photo, result, t, mask, mask)
    assert seam(export, photo, t) < 1.5  # the neck crosses the bottom border: it fades in gradually
    # The whole generated square, feathered as before, leaves its rectangle: the test sees it.
    assert seam(paste_back(photo, result, t), photo, t) > 10


def test_outside_the_person_the_photo_is_untouched():
    photo, aligned, t = photo_and_transform(1)
    mask = drawn_mask()
    result = generated(aligned, mask, background=250)
    result[mask == HAIR] = (200, 50, 50)  # the edit: red hair
    export = paste_edit(photo, result, t, mask, mask, restyled={HAIR})
    region, _ = paste_region(mask, mask, restyled={HAIR})
    grown = cv2.dilate(region.astype(np.uint8), np.ones((7, 7), np.uint8))
    inside = cv2.warpAffine(grown, t.matrix, photo.shape[1::-1], flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP) > 0
    diff = np.abs(export.astype(int) - photo)
    assert diff[~inside].mean() < 0.5 and np.percentile(diff[~inside], 99.9) <= 2
    assert diff[inside].mean() > 20  # ...and the edited face was pasted


def test_the_region_is_the_person_in_either_mask_plus_what_was_painted():
    original = drawn_mask()
    edited = original.copy()
    edited[100:140, 20:60] = HAIR  # longer hair, painted over the background
    edited[480:500, 20:40] = SKIN  # a hand painted over the cloth
    edited[200:220, 250:260] = 0  # background painted into the face: changed, so pasted
    region, steady = paste_region(original, edited)
    assert region[120, 40] and region[490, 30] and region[210, 255]
    assert not region[5, 5] and not region[500, 100]  # background and cloth stay the photo's
    assert region[300, 256] and region[450, 256]  # face and neck
    assert steady[300, 256] and not steady[120, 40] and not steady[210, 255]


def test_a_restyled_background_replaces_the_photos_inside_the_crop():
    original = drawn_mask()
    region, _ = paste_region(original, original, restyled={0})
    assert region.all()
    photo, aligned, t = photo_and_transform(2)
    export = paste_edit(photo, generated(aligned, original, background=250), t, original, original, restyled={0})
    assert export[Y0 + 20, X0 + 20].mean() > 200  # a background corner inside the crop: the generated one


def test_colour_matching_leaves_a_restyled_class_its_new_colour():
    photo = np.full((600, 600, 3), 100, np.uint8)
    photo[:, :, 0] = 120
    _, t = align_face(photo, FaceBox((0, 0, 1, 1), TEMPLATE_512 + 40), 512)
    mask = drawn_mask()
    result = np.full((512, 512, 3), 100 + 15, np.uint8)  # the generator drifted +15 ...
    result[..., 0] = 120 + 15
    result[mask == HAIR] = (230, 200, 30)  # ... and the hair is now blond (restyled)
    export = paste_edit(photo, result, t, mask, mask, restyled={HAIR})
    hair_at = (40 + 256, 40 + 90)  # (x, y) inside the hair, away from its edge
    skin_at = (40 + 256, 40 + 300)
    assert np.abs(export[skin_at[1], skin_at[0]].astype(int) - photo[skin_at[1], skin_at[0]]).max() <= 3
    assert np.abs(export[hair_at[1], hair_at[0]].astype(int) - (215, 185, 15)).max() <= 3  # only the drift removed


def test_paste_region_needs_masks_of_one_size_and_works_for_tables_without_groups():
    with pytest.raises(ValueError, match="original mask is"):
        paste_region(np.zeros((8, 8), np.uint8), np.zeros((4, 4), np.uint8))
    generic = ClassTable.generic(5)
    mask = np.array([[0, 1], [2, 4]], np.uint8)
    region, _ = paste_region(mask, mask, generic)
    assert region.tolist() == [[False, True], [True, True]]
    assert CELEBAMASK_HQ.person() == tuple(range(1, 18))  # everything but background and cloth


def test_a_small_model_output_is_pasted_through_the_full_size_mask():
    photo, aligned, t = photo_and_transform(3)
    mask = drawn_mask()
    small = cv2.resize(generated(aligned, mask), (128, 128), interpolation=cv2.INTER_AREA)
    export = paste_edit(photo, small, t, mask, mask)
    assert export.shape == photo.shape and seam(export, photo, t) < 1.5
