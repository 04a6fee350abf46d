"""The painting tools' arithmetic, with numpy alone."""

import numpy as np

from app import mask_ops


def blank(h=32, w=32, value=0):
    return np.full((h, w), value, np.uint8)


def test_a_dab_paints_a_disk_of_the_given_radius():
    mask = blank()
    box = mask_ops.apply_label(mask, mask_ops.segment_footprint(mask.shape, (16, 16), (16, 16), 3), 5)
    assert box is not None
    assert mask[16, 16] == 5 and mask[16, 19] == 5 and mask[16, 20] == 0
    assert 25 <= (mask == 5).sum() <= 33  # π·3² ≈ 28


def test_a_fast_drag_leaves_no_gaps():
    mask = blank()
    mask_ops.apply_label(mask, mask_ops.segment_footprint(mask.shape, (2, 16), (29, 16), 1), 3)
    assert (mask[16, 2:30] == 3).all()


def test_footprints_are_clipped_at_the_border():
    mask = blank()
    assert mask_ops.segment_footprint(mask.shape, (-50, -50), (-40, -40), 2) is None
    mask_ops.apply_label(mask, mask_ops.segment_footprint(mask.shape, (0, 0), (0, 0), 4), 1)
    assert mask[0, 0] == 1


def test_locked_classes_are_never_painted_over():
    mask = blank()
    mask[:, :16] = 13
    mask_ops.apply_label(mask, mask_ops.rect_footprint(mask.shape, (0, 0), (31, 31)), 1, locked={13})
    assert (mask[:, :16] == 13).all() and (mask[:, 16:] == 1).all()


def test_flood_fill_takes_only_the_connected_region():
    mask = blank()
    mask[:, 10] = 2  # a wall splits the background in two
    mask_ops.apply_label(mask, mask_ops.flood_footprint(mask, 3, 3), 7)
    assert (mask[:, :10] == 7).all() and (mask[:, 10] == 2).all() and (mask[:, 11:] == 0).all()


def test_flood_fill_is_four_connected():
    mask = blank(4, 4)
    mask[0, 0] = mask[1, 1] = 5  # touching only at a corner
    mask_ops.apply_label(mask, mask_ops.flood_footprint(mask, 0, 0), 9)
    assert mask[0, 0] == 9 and mask[1, 1] == 5


def test_lasso_fills_the_polygon_inside():
    mask = blank()
    mask_ops.apply_label(mask, mask_ops.polygon_footprint(mask.shape, [(4, 4), (27, 4), (27, 27), (4, 27)]), 6)
    assert (mask[5:27, 5:27] == 6).all() and mask[0, 0] == 0 and mask[30, 30] == 0


def test_eraser_restores_the_class_underneath():
    original = blank(value=1)
    mask = blank(value=4)
    mask_ops.apply_label(mask, mask_ops.rect_footprint(mask.shape, (0, 0), (7, 7)), original)
    assert (mask[:8, :8] == 1).all() and (mask[8:, :] == 4).all()


def test_unchanged_pixels_report_no_change():
    mask = blank(value=3)
    assert mask_ops.apply_label(mask, mask_ops.rect_footprint(mask.shape, (0, 0), (5, 5)), 3) is None


def test_eyedropper_and_counts():
    mask = blank()
    mask[2, 3] = 12
    assert mask_ops.pick_label(mask, 3, 2) == 12
    assert mask_ops.pick_label(mask, 99, 2) is None
    counts = mask_ops.pixel_counts(mask, 19)
    assert counts[12] == 1 and counts[0] == 32 * 32 - 1 and len(counts) == 19


def test_changed_box_is_the_tight_bounding_box():
    a = blank()
    b = a.copy()
    b[3, 5] = 1
    b[10, 8] = 1
    assert mask_ops.changed_box(a, b) == (slice(3, 11), slice(5, 9))
    assert mask_ops.changed_box(a, a) is None
