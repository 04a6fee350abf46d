"""Clean-up turns raw predictions into masks a person would draw."""

from __future__ import annotations

import numpy as np

from ca2sis.parsing.cleanup import clean_mask, fill_holes, fix_sides, keep_largest, remove_specks


def face_mask() -> np.ndarray:
    """A cartoon face in CelebAMask-HQ ids: skin disc, two eyes, a nose, a mouth, hair on top."""
    m = np.zeros((128, 128), np.uint8)
    yy, xx = np.mgrid[0:128, 0:128]
    m[(yy - 64) ** 2 + (xx - 64) ** 2 < 45**2] = 1
    m[20:30, 30:98] = 13
    m[50:56, 40:50] = 5  # r_eye: the subject's right eye, on the image's left
    m[50:56, 78:88] = 4  # l_eye on the image's right
    m[60:80, 58:70] = 2
    m[88:94, 50:78] = 10
    return m


def test_clean_face_is_left_unchanged():
    m = face_mask()
    assert np.array_equal(clean_mask(m), m)


def test_speckles_of_rare_classes_vanish_into_their_surroundings():
    m = face_mask()
    m[70, 40] = 15  # an "earring" pixel on the cheek
    m[100:102, 60:62] = 3  # a tiny "glasses" blob
    out = clean_mask(m)
    assert out[70, 40] == 1 and (out[100:102, 60:62] == 1).all()


def test_speck_threshold_scales_with_the_image():
    m = np.ones((100, 100), np.uint8)
    m[10:13, 10:13] = 14  # 9 px: above 4e-4 × 10000 = 4 px, kept
    m[50, 50] = 14  # 1 px: removed
    remove_specks(m)
    assert m[11, 11] == 14 and m[50, 50] == 1


def test_holes_are_filled_but_border_background_stays():
    m = face_mask()
    m[40:44, 60:64] = 0  # a background hole inside the skin
    fill_holes(m)
    assert (m[40:44, 60:64] == 1).all()
    assert m[0, 0] == 0


def test_single_parts_keep_one_region():
    m = face_mask()
    m[100:110, 20:30] = 2  # a second "nose" region
    keep_largest(m)
    assert (m[60:80, 58:70] == 2).all() and not (m[100:110, 20:30] == 2).any()


def test_swapped_sides_are_put_back():
    m = face_mask()
    left, right = m == 4, m == 5
    m[left], m[right] = 5, 4  # l_eye wrongly on the image's left
    fix_sides(m)
    assert m[52, 82] == 4 and m[52, 45] == 5


def test_a_single_class_image_is_left_alone():
    m = np.full((32, 32), 13, np.uint8)
    assert np.array_equal(clean_mask(m), m)
