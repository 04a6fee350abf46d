"""Keyboard shortcuts work again as soon as any dialog closes, without clicking the canvas first."""

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

pytestmark = pytest.mark.gui


def real_dialog_cancelled(parent, *args, **kwargs):
    """Qt's own file dialog, shown modally and cancelled: what a person does when they change their mind."""
    dialog = QFileDialog(parent, "test")
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
    QTimer.singleShot(50, dialog.reject)
    dialog.exec()
    return "", ""


def real_message_answered(parent, title, text, buttons=None, *args):
    box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.No, parent)
    QTimer.singleShot(50, box.reject)
    box.exec()
    return QMessageBox.StandardButton.No


@pytest.mark.parametrize("dialog", ["open photo", "add reference", "save as", "export image", "load weights",
                                    "unsaved changes", "an error message"])
def test_shortcuts_work_right_after_a_dialog_closes(loaded, monkeypatch, dialog):
    monkeypatch.setattr(QFileDialog, "getOpenFileName", real_dialog_cancelled)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", real_dialog_cancelled)
    monkeypatch.setattr(QMessageBox, "question", real_message_answered)
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text, *a: real_message_answered(parent, title,
                                                                                                       text))
    loaded.canvas.setFocus()
    loaded.doc.dirty = True
    loaded.interactive = True  # the questions are asked, not answered by default
    actions = {a.text().replace("&", ""): a for a in loaded.actions_.all}
    {
        "open photo": lambda: loaded.files.open_photo(),
        "add reference": lambda: loaded.files.add_reference(),
        "save as": lambda: loaded.files.save(save_as=True),
        "export image": lambda: loaded.files.export_image(),
        "load weights": actions["Load Model Weights…"].trigger,
        "unsaved changes": loaded.files.maybe_keep_changes,
        "an error message": lambda: loaded.report_error("Could not open x.png", "it is not an image"),
    }[dialog]()
    QApplication.processEvents()
    assert QApplication.activeWindow() is loaded and loaded.canvas.hasFocus()
    size = loaded.tools.brush_size
    QTest.keyClick(loaded, Qt.Key.Key_BracketRight)  # "]": a bigger brush
    assert loaded.tools.brush_size > size
    loaded.interactive = False
    loaded.doc.dirty = False
