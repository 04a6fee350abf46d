"""The way of an edit to the screen: stroke previews give way, nothing is done twice, every stage is stamped."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from app import mask_ops
from app.document import Document
from app.main_window import LIVE_INTERVAL_MS
from app.render_bridge import RenderBridge, plan_for
from tests.app.fakes import FakeEditor, face_pair

pytestmark = pytest.mark.gui


def at(canvas, x, y):
    return canvas.to_widget(x + 0.5, y + 0.5).toPoint()


def test_the_end_of_a_stroke_interrupts_its_live_preview_instead_of_waiting_for_it(loaded, qtbot):
    editor = FakeEditor(delay=1.0)  # a slow model: each render takes a second unless interrupted
    loaded.set_editor(editor)
    loaded.worker.wait_until_idle(5)
    canvas, doc = loaded.canvas, loaded.doc
    loaded.tools.current_class, loaded.tools.brush_size = 13, 4
    start = len(editor.requests)
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(canvas, 10, 40))
    QTest.mouseMove(canvas, at(canvas, 30, 40))
    qtbot.waitUntil(lambda: len(editor.requests) > start, timeout=LIVE_INTERVAL_MS * 10)  # the live preview runs
    QTest.mouseMove(canvas, at(canvas, 50, 44))
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(canvas, 50, 44))
    assert loaded.worker.wait_until_idle(10)
    assert editor.cancelled == 1  # the preview of the half-painted stroke gave up at once
    final = editor.requests[-1]
    assert (editor.masks[final.mask_key] == doc.mask).all() and loaded.traces.last.submitted > 0


def test_renders_of_finished_edits_are_not_interrupted(loaded, qtbot):
    editor = FakeEditor(delay=0.2)
    loaded.set_editor(editor)
    loaded.worker.wait_until_idle(5)
    start = len(editor.requests)
    loaded.submit_render(force=True)
    qtbot.waitUntil(lambda: len(editor.requests) > start, timeout=2000)
    loaded.submit_render(force=True)  # a slider's next step: the newest wins, the running one finishes
    assert loaded.worker.wait_until_idle(10)
    assert editor.cancelled == 0 and loaded.worker.dropped >= 1


def test_every_stage_of_a_render_is_stamped_and_the_stages_add_up(loaded, qtbot):
    shown = []
    loaded.displayed.connect(shown.append)
    loaded.doc.paint(mask_ops.rect_footprint(loaded.doc.mask.shape, (20, 20), (28, 28)), 4)
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    trace = shown[-1]
    stamps = [trace.changed, trace.submitted, trace.started, trace.finished, trace.delivered, trace.converted,
              trace.painted]
    assert stamps == sorted(stamps)
    assert sum(trace.stages().values()) == pytest.approx(trace.total, abs=1e-6)
    assert loaded.time_label.toolTip().startswith("edit → pixels")


def test_a_face_is_registered_with_the_editor_once_and_again_after_the_editor_forgot_it():
    image, mask = face_pair()
    doc = Document()
    doc.load_face(mask, image, "face")
    editor = FakeEditor()
    bridge = RenderBridge(editor)
    bridge.render(plan_for(doc))
    doc.mask[:4] = 13  # a stroke: a new mask, the same face
    result = bridge.render(plan_for(doc))
    assert editor.faces_added == 1 and "register" in result.timings
    editor.faces.clear()  # its bounded cache evicted the face
    bridge.render(plan_for(doc))
    assert editor.faces_added == 2
