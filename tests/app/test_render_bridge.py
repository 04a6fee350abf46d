"""From document to editor request: equal documents give equal plans; keys are translated."""

import numpy as np

from app.document import Document, ReferenceFace
from app.render_bridge import RenderBridge, plan_for
from ca2sis.requests import ShapeSource, StyleSource
from tests.app.fakes import FakeEditor, face_pair


def doc_with_reference():
    image, mask = face_pair()
    doc = Document()
    doc.load_face(mask, image, "face")
    ref = doc.add_reference(ReferenceFace.make("ref", image[::-1].copy(), mask[::-1].copy()))
    return doc, ref


def test_an_unchanged_document_gives_an_equal_plan_and_a_change_does_not():
    doc, ref = doc_with_reference()
    assert plan_for(doc) == plan_for(doc)
    before = plan_for(doc)
    old = doc.mask[0, 0]
    doc.mask[0, 0] = 7
    assert plan_for(doc) != before
    doc.mask[0, 0] = old
    assert plan_for(doc) == before
    doc.set_style(13, StyleSource("reference", ref.key, alpha=0.5))
    assert plan_for(doc) != before


def test_the_plan_does_not_see_later_strokes():
    doc, _ = doc_with_reference()
    plan = plan_for(doc)
    doc.mask[:] = 5
    assert (plan.masks[plan.request.mask_key] != 5).any()


def test_the_bridge_registers_everything_and_translates_keys():
    doc, ref = doc_with_reference()
    doc.set_style(13, StyleSource("reference", ref.key, alpha=0.5))
    doc.set_shape(2, ShapeSource(ref.key, 0.3))
    doc.set_shape_all(ShapeSource(ref.key, 0.1))
    doc.set_attention_class(13)
    editor = FakeEditor()
    result = RenderBridge(editor).render(plan_for(doc))
    req = editor.requests[-1]
    assert req.own_key in editor.faces and req.mask_key in editor.masks
    assert dict(req.styles)[13].reference in editor.faces
    assert dict(req.shapes)[2].reference in editor.masks and req.shape_all.reference in editor.masks
    assert req.attention_class == 13 and result.attention is not None
    assert np.array_equal(editor.masks[req.mask_key], doc.mask)


def test_overrides_for_strips_and_animations_leave_the_document_alone():
    doc, ref = doc_with_reference()
    plan = plan_for(doc, styles={4: StyleSource("random", seed=9)}, attention=False)
    assert dict(plan.request.styles)[4].seed == 9 and 4 not in doc.styles
