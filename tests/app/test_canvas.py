"""Painting on the canvas with the mouse: strokes, undo/redo, fill, lock, eyedropper."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

pytestmark = pytest.mark.gui


def at(canvas, x, y):
    p = canvas.to_widget(x + 0.5, y + 0.5)
    return QPoint(round(p.x()), round(p.y()))


def drag(canvas, points):
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(canvas, *points[0]))
    for p in points[1:]:
        QTest.mouseMove(canvas, at(canvas, *p))
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(canvas, *points[-1]))


def test_a_brush_stroke_paints_and_undo_redo_restore_exactly(loaded):
    doc, canvas, tools = loaded.doc, loaded.canvas, loaded.tools
    tools.current_class = 13
    tools.brush_size = 4
    before = doc.mask.copy()
    drag(canvas, [(10, 40), (20, 42), (40, 44), (55, 46)])
    after = doc.mask.copy()
    assert (after != before).sum() > 100
    assert after[44, 40] == 13
    assert len(doc.history) == 1  # one drag, one step
    loaded.actions_.undo.trigger()
    assert np.array_equal(doc.mask, before)
    loaded.actions_.redo.trigger()
    assert np.array_equal(doc.mask, after)


def test_eraser_paints_background_or_the_class_underneath(loaded):
    doc, canvas, tools = loaded.doc, loaded.canvas, loaded.tools
    tools.current_class = 13
    tools.brush_size = 6
    drag(canvas, [(20, 32), (40, 32)])
    tools.tool = "eraser"
    tools.eraser_mode = "underneath"
    drag(canvas, [(20, 32), (40, 32)])
    assert np.array_equal(doc.mask, doc.original_mask)
    tools.eraser_mode = "background"
    drag(canvas, [(30, 32), (30, 32)])
    assert doc.mask[32, 30] == 0


def test_flood_fill_replaces_the_connected_region(loaded):
    doc, canvas, tools = loaded.doc, loaded.canvas, loaded.tools
    tools.tool = "fill"
    tools.current_class = 18
    skin = doc.mask == 1
    QTest.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=at(canvas, 32, 32))
    assert (doc.mask[skin] == 18).all() and (doc.mask[~skin] != 18).all()
    doc.undo()
    assert (doc.mask[skin] == 1).all()


def test_locked_classes_are_not_painted_over(loaded):
    doc, canvas, tools = loaded.doc, loaded.canvas, loaded.tools
    loaded.palette_panel.table.item(1, 4).setCheckState(Qt.CheckState.Checked)  # the lock column
    assert 1 in doc.locked
    skin = doc.mask == 1
    tools.current_class = 13
    tools.brush_size = 30
    drag(canvas, [(5, 32), (60, 32)])
    assert (doc.mask[skin] == 1).all()
    assert doc.mask[32, 3] == 13  # outside the skin the stroke went through


def test_rectangle_and_eyedropper(loaded):
    doc, canvas, tools = loaded.doc, loaded.canvas, loaded.tools
    tools.tool = "rect"
    tools.current_class = 17
    drag(canvas, [(2, 50), (10, 60)])
    assert (doc.mask[50:61, 2:11] == 17).all()
    tools.tool = "picker"
    QTest.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=at(canvas, 32, 32))
    assert tools.current_class == 1


def test_brush_size_keys_and_class_shortcuts(loaded):
    tools = loaded.tools
    size = tools.brush_size
    QTest.keyClick(loaded, Qt.Key.Key_BracketRight)
    assert tools.brush_size > size
    QTest.keyClick(loaded, Qt.Key.Key_H)
    assert tools.current_class == 13
    QTest.keyClick(loaded, Qt.Key.Key_E, Qt.KeyboardModifier.ShiftModifier)
    assert tools.current_class == 5
    QTest.keyClick(loaded, Qt.Key.Key_F)
    assert tools.tool == "fill"


def test_painting_renders_live_and_on_release(loaded, qtbot):
    editor = loaded.editor
    n = len(editor.requests)
    loaded.tools.current_class = 13
    drag(loaded.canvas, [(10, 10), (30, 30)])
    qtbot.waitUntil(lambda: len(editor.requests) > n, timeout=3000)
    loaded.worker.wait_until_idle(5)
    shown = loaded.result.result
    assert np.array_equal(shown, loaded.doc.classes.colorize(loaded.doc.mask))


def test_the_canvas_shows_each_stroke_although_it_repaints_only_what_changed(loaded, qtbot):
    from PySide6.QtWidgets import QApplication

    from app.qt_util import from_qimage

    doc, canvas, tools = loaded.doc, loaded.canvas, loaded.tools
    tools.current_class, tools.brush_size = 18, 6
    assert canvas.scale > 3  # each mask pixel covers several screen pixels
    for x in (12, 40):  # two strokes far apart: two separate repaints of small regions
        drag(canvas, [(x, 30), (x + 2, 30)])
        QApplication.processEvents()
    shown = from_qimage(canvas.grab().toImage())
    colours = doc.classes.palette()[doc.mask].astype(float)
    expected = doc.face * (1 - tools.opacity) + colours * tools.opacity  # the class colours over the photo
    for x in (13, 41):
        p = canvas.to_widget(x + 0.5, 30.5)
        assert np.abs(shown[int(p.y()), int(p.x())].astype(int) - expected[30, x]).max() <= 2
