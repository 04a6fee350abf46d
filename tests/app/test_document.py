"""The document model and its undo history, without Qt."""

import numpy as np
import pytest

from app import mask_ops
from app.document import Document, ReferenceFace
from ca2sis.requests import ShapeSource, StyleSource


def make_doc(size=64):
    mask = np.zeros((size, size), np.uint8)
    mask[16:48, 16:48] = 1
    face = np.full((size, size, 3), 120, np.uint8)
    doc = Document(mask=mask, face=face)
    doc.load_face(mask, face, "test")
    return doc


def stroke(doc, points, value, radius=3):
    doc.begin_stroke()
    for p0, p1 in zip(points, points[1:], strict=False):
        doc.paint(mask_ops.segment_footprint(doc.mask.shape, p0, p1, radius), value)
    return doc.commit_stroke()


def test_one_drag_is_one_undo_step_and_undo_redo_are_exact():
    doc = make_doc()
    before = doc.mask.copy()
    assert stroke(doc, [(5, 5), (20, 20), (40, 10), (60, 60)], 13)
    after = doc.mask.copy()
    assert len(doc.history) == 1 and doc.dirty
    assert doc.undo()
    assert (doc.mask == before).all()
    assert doc.redo()
    assert (doc.mask == after).all()


def test_a_new_edit_clears_redo():
    doc = make_doc()
    stroke(doc, [(5, 5), (10, 10)], 2)
    doc.undo()
    assert doc.history.can_redo
    stroke(doc, [(30, 30), (31, 31)], 4)
    assert not doc.history.can_redo


def test_a_stroke_that_changes_nothing_records_nothing():
    doc = make_doc()
    assert not stroke(doc, [(0, 0), (3, 3)], 0)
    assert len(doc.history) == 0


def test_locked_classes_survive_a_stroke():
    doc = make_doc()
    doc.set_locked(1, True)
    stroke(doc, [(0, 32), (63, 32)], 13, radius=5)
    assert (doc.mask[16:48, 16:48] == 1).all()
    assert doc.mask[32, 2] == 13


def test_abort_restores_the_mask():
    doc = make_doc()
    before = doc.mask.copy()
    doc.begin_stroke()
    doc.paint(mask_ops.segment_footprint(doc.mask.shape, (0, 0), (50, 50), 4), 9)
    doc.abort_stroke()
    assert (doc.mask == before).all() and len(doc.history) == 0


def test_observers_hear_about_mask_changes():
    doc = make_doc()
    events = []
    doc.subscribe(lambda e, p: events.append((e, p)))
    doc.paint(mask_ops.rect_footprint(doc.mask.shape, (0, 0), (3, 3)), 5)
    assert ("mask", (slice(0, 4), slice(0, 4))) in events
    assert ("dirty", True) in events


def test_style_changes_are_undoable_and_a_slider_drag_merges():
    doc = make_doc()
    ref = doc.add_reference(ReferenceFace.make("r", np.zeros((64, 64, 3), np.uint8), doc.mask.copy()))
    for alpha in (0.1, 0.4, 0.7):
        doc.set_style(13, StyleSource("reference", ref.key, alpha=alpha), merge_key=("alpha", 13, 1))
    assert len(doc.history) == 1 and doc.style_of(13).alpha == 0.7
    doc.undo()
    assert doc.style_of(13).kind == "own"
    doc.redo()
    assert doc.style_of(13).alpha == 0.7


def test_own_style_is_stored_as_absent():
    doc = make_doc()
    doc.set_style(4, StyleSource("random", seed=3))
    doc.set_style(4, StyleSource())
    assert 4 not in doc.styles


def test_shape_settings_and_whole_mask_edits_are_undoable():
    doc = make_doc()
    ref = doc.add_reference(ReferenceFace.make("r", np.zeros((64, 64, 3), np.uint8), doc.mask.copy()))
    doc.set_shape(2, ShapeSource(ref.key, 0.5))
    doc.set_shape_all(ShapeSource(ref.key, 0.2))
    new = doc.mask.copy()
    new[:8] = 17
    doc.set_mask(new)
    assert len(doc.history) == 3
    doc.undo()
    doc.undo()
    doc.undo()
    assert doc.shapes == {} and doc.shape_all is None and (doc.mask[:8] == 0).all()


def test_eraser_modes():
    doc = make_doc()
    assert doc.eraser_value("background") == 0
    assert (doc.eraser_value("underneath") == doc.original_mask).all()


def test_bad_masks_are_refused_with_a_clear_message():
    doc = make_doc()
    with pytest.raises(ValueError, match="class id 40"):
        doc.load_face(np.full((8, 8), 40, np.uint8), None, "bad")
    with pytest.raises(ValueError, match="differ in size"):
        doc.load_face(np.zeros((8, 8), np.uint8), np.zeros((4, 4, 3), np.uint8), "bad")
