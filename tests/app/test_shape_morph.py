"""Baking a shape interpolation into the mask."""

import numpy as np

from app.shape_morph import morph_all, morph_class


def square(size, y0, y1, x0, x1, cls=2, base=1):
    m = np.full((size, size), base, np.uint8)
    m[y0:y1, x0:x1] = cls
    return m


def test_morph_ends_at_the_current_and_the_reference_region():
    cur = square(40, 10, 20, 10, 20)
    ref = square(40, 15, 35, 15, 35)
    assert (morph_class(cur, ref, 2, 0.0) == cur).all()
    assert ((morph_class(cur, ref, 2, 1.0) == 2) == (ref == 2)).all()


def test_halfway_is_in_between_and_holes_take_the_neighbouring_class():
    cur = square(40, 5, 35, 5, 35)
    ref = square(40, 15, 25, 15, 25)
    half = morph_class(cur, ref, 2, 0.5)
    assert (ref == 2).sum() < (half == 2).sum() < (cur == 2).sum()
    assert set(np.unique(half)) == {1, 2}


def test_locked_classes_hold_their_pixels():
    cur = square(40, 10, 20, 10, 20)
    cur[30:, :] = 13
    ref = square(40, 20, 40, 10, 20)
    out = morph_class(cur, ref, 2, 1.0, locked={13})
    assert (out[30:, :] == 13).all()


def test_whole_face_morph_reaches_the_reference():
    cur = square(32, 4, 12, 4, 12)
    ref = square(32, 16, 28, 16, 28, cls=5)
    assert (morph_all(cur, ref, 1.0, 19) == ref).all()
    assert (morph_all(cur, ref, 0.0, 19) == cur).all()


def test_whole_face_morph_respects_locks():
    cur = square(32, 4, 12, 4, 12)
    ref = square(32, 16, 28, 16, 28, cls=5)
    cur[20:24, 0:4] = 13
    out = morph_all(cur, ref, 1.0, 19, locked={13, 2})
    assert (out[20:24, 0:4] == 13).all() and (out[cur == 2] == 2).all()
    assert ((out == 13) == (cur == 13)).all()
