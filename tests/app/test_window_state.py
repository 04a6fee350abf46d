"""The window shows the document's state: toggles, slider values, and which exports make sense now."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from app.project_io import save_project
from ca2sis.requests import ShapeSource, StyleSource
from tests.app.test_window import add_reference

pytestmark = pytest.mark.gui


def test_a_reopened_project_brings_its_attention_overlay_with_the_toggle_on(loaded, tmp_path):
    loaded.tools.current_class = 13
    loaded.actions_.attention.trigger()  # the toolbar toggle: "Attention: Hair"
    assert loaded.doc.attention_class == 13
    path = save_project(loaded.doc, tmp_path / "p.ca2sis")
    loaded.actions_.attention.trigger()
    assert loaded.doc.attention_class is None and not loaded.actions_.attention.isChecked()
    assert loaded.files.open_project(path)
    loaded.worker.wait_until_idle(5)  # files are read on the worker
    assert loaded.doc.attention_class == 13 and loaded.actions_.attention.isChecked()
    loaded.actions_.attention.trigger()  # and the toggle still turns it off
    assert loaded.doc.attention_class is None


def test_the_alpha_sliders_show_their_value(loaded):
    row = loaded.style_panel.rows[13]
    loaded.doc.set_style(13, StyleSource("random", seed=3, alpha=0.35))
    assert row.alpha.value_label.text() == "0.35" and row.alpha.value_label.isVisibleTo(row)
    row.alpha.setFocus()
    QTest.keyClick(row.alpha, Qt.Key.Key_Right)  # one step of 0.05, as a person does it
    assert row.alpha.value_label.text() == "0.40" and loaded.doc.style_of(13).alpha == pytest.approx(0.40)
    shape_row = loaded.shape_panel.rows[13]
    ref = add_reference(loaded.doc)
    loaded.doc.set_shape(13, ShapeSource(ref.key, 0.7))
    assert shape_row.alpha.value_label.text() == "0.70"
    loaded.doc.set_shape(13, None)
    assert not shape_row.alpha.value_label.isEnabled()  # greyed out with its slider


def test_animation_exports_are_disabled_with_a_reason_for_a_class_left_at_its_own(loaded):
    style = loaded.actions_.animations["style"]
    loaded.tools.current_class = 13
    assert not style.isEnabled() and "own style" in style.toolTip() and "Hair" in style.toolTip()
    loaded.doc.set_style(13, StyleSource("random", seed=1))
    assert style.isEnabled() and "α 0 to 1" in style.toolTip()
    loaded.tools.current_class = 1  # skin is still at its own style
    assert not style.isEnabled() and "Skin" in style.toolTip()
    shape, whole = loaded.actions_.animations["shape"], loaded.actions_.animations["whole"]
    assert not shape.isEnabled() and not whole.isEnabled()
    ref = add_reference(loaded.doc)
    loaded.doc.set_shape_all(ShapeSource(ref.key, 0.5))
    assert whole.isEnabled() and not shape.isEnabled()
    loaded.doc.undo()
    assert not whole.isEnabled()
