"""A mask's left/right naming: CelebAMask-HQ's majority convention, and masks that name it the other way."""

from __future__ import annotations

import numpy as np
import pytest

from ca2sis.classes import CELEBAMASK_HQ
from ca2sis.parsing.sides import follows_other_convention, side_votes, standard_sides
from tests.parsing.test_cleanup import face_mask

L_EYE, R_EYE, L_BROW, R_BROW, L_EAR, R_EAR = 4, 5, 6, 7, 8, 9


def renamed(mask: np.ndarray) -> np.ndarray:
    """The same pixels with every left part called right and vice versa (as 7% of the data does)."""
    return CELEBAMASK_HQ.flip_lut()[mask]


def test_the_subjects_left_eye_on_the_images_right_is_the_standard():
    m = face_mask()  # l_eye at x 78–88, r_eye at x 40–50
    assert side_votes(m) == (1, 0)
    assert not follows_other_convention(m)
    assert standard_sides(m) is m


def test_a_mask_naming_every_part_the_other_way_is_found_and_renamed():
    m = face_mask()
    m[40:44, 38:52], m[40:44, 76:90] = R_BROW, L_BROW
    other = renamed(m)
    assert side_votes(other) == (0, 2)
    assert follows_other_convention(other)
    assert np.array_equal(standard_sides(other), m)


def test_a_part_without_its_twin_votes_by_its_side_of_the_nose():
    m = face_mask()
    m[m == R_EYE] = 1  # one eye hidden
    m[55:70, 105:110] = L_EAR  # an ear on the image's right: the subject's left
    assert side_votes(m) == (2, 0)
    m[55:70, 105:110] = R_EAR
    assert side_votes(m) == (1, 1)
    assert not follows_other_convention(m)  # a tie keeps the names


def test_masks_without_paired_parts_are_left_alone():
    m = np.zeros((32, 32), np.uint8)
    m[8:24, 8:24] = 1
    assert side_votes(m) == (0, 0)
    assert not follows_other_convention(m)
    assert standard_sides(m) is m


def test_a_mirrored_photos_mask_with_renamed_parts_still_follows_the_standard():
    """Mirroring the image and renaming its parts (what training's flips do) keeps the convention."""
    m = face_mask()
    mirrored = renamed(m[:, ::-1])
    assert not follows_other_convention(mirrored)
    assert follows_other_convention(m[:, ::-1])  # mirrored pixels with the old names: the other way


@pytest.mark.parametrize("shape", [(0, 0), (1, 1)])
def test_degenerate_masks(shape):
    assert not follows_other_convention(np.zeros(shape, np.uint8))


def test_training_can_rename_the_masks_that_follow_the_other_convention():
    from ca2sis.parsing.training import TrainConfig, standardise_sides

    masks = np.stack([face_mask(), renamed(face_mask()), face_mask()])
    assert standardise_sides(masks) == 1
    assert all(np.array_equal(m, face_mask()) for m in masks)
    assert not TrainConfig(data="unused").standard_sides  # off unless asked for
