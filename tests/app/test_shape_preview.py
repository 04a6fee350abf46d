"""The mask view outlines where a shape morph is heading, before "Apply to mask"."""

import numpy as np
import pytest

from app.shape_morph import morph_layout, outlines, resize_nearest
from app.shape_preview import PREVIEW_SIZE
from ca2sis.requests import ShapeSource
from tests.app.fakes import face_pair

pytestmark = pytest.mark.gui


def outline_pixels(canvas) -> np.ndarray:
    image = canvas.outline
    buf = np.frombuffer(image.constBits(), np.uint8, count=image.bytesPerLine() * image.height())
    return buf.reshape(image.height(), image.bytesPerLine())[:, : 4 * image.width()].reshape(
        image.height(), image.width(), 4)[..., 3] == 255  # the white line (its dark rim is translucent)


@pytest.fixture
def with_reference(loaded):
    image, mask = face_pair()
    mask = mask.copy()
    mask[: mask.shape[0] // 2] = np.where(mask[: mask.shape[0] // 2] == 1, 1, 13)  # much more hair
    from app.document import ReferenceFace

    ref = loaded.doc.add_reference(ReferenceFace.make("long hair.png", image, mask))
    return loaded, ref


def expected_outline(doc, ref, shapes, shape_all=None, classes=None):
    small = (PREVIEW_SIZE, PREVIEW_SIZE)
    target = morph_layout(resize_nearest(doc.mask, small), {ref.key: resize_nearest(ref.mask, small)}, shapes,
                          shape_all, len(doc.classes))
    return outlines(target, classes)


def test_a_class_morph_outlines_its_target_in_the_mask_view_before_it_is_applied(with_reference, qtbot):
    window, ref = with_reference
    doc, canvas = window.doc, window.canvas
    assert canvas.outline.isNull()
    painted = doc.mask.copy()
    doc.set_shape(13, ShapeSource(ref.key, 0.5))
    qtbot.waitUntil(lambda: not canvas.outline.isNull(), timeout=5000)
    half = outline_pixels(canvas)
    assert np.array_equal(half, expected_outline(doc, ref, {13: ShapeSource(ref.key, 0.5)}, classes=[13]))
    assert np.array_equal(doc.mask, painted)  # the painted mask itself is untouched
    doc.set_shape(13, ShapeSource(ref.key, 1.0))  # the slider moves on: so does the outline
    qtbot.waitUntil(lambda: not np.array_equal(outline_pixels(canvas), half), timeout=5000)
    assert np.array_equal(outline_pixels(canvas), expected_outline(doc, ref, {13: ShapeSource(ref.key, 1.0)},
                                                                   classes=[13]))
    window.shape_panel.apply_to_mask()  # baked: no morph left to preview
    qtbot.waitUntil(lambda: canvas.outline.isNull(), timeout=5000)


def test_a_whole_face_morph_outlines_every_part(with_reference, qtbot):
    window, ref = with_reference
    window.doc.set_shape_all(ShapeSource(ref.key, 0.5))
    qtbot.waitUntil(lambda: not window.canvas.outline.isNull(), timeout=5000)
    expected = expected_outline(window.doc, ref, {}, ShapeSource(ref.key, 0.5))
    assert np.array_equal(outline_pixels(window.canvas), expected) and expected.any()
    window.doc.undo()
    qtbot.waitUntil(lambda: window.canvas.outline.isNull(), timeout=5000)
