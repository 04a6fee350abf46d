"""Fixtures for the editor's GUI tests: a main window wired to a fake model and Pillow-only services."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from app.services import Services
from tests.app.fakes import FakeEditor, face_pair


@pytest.fixture
def services():
    return Services()  # no model loader, no photo pipeline: the Pillow fallbacks


@pytest.fixture
def window(qtbot, services):
    from app.main_window import MainWindow

    win = MainWindow(services)
    win.resize(1200, 800)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.interactive = False  # no "save changes?" question while the test tears down
    win.close()
    win.deleteLater()


@pytest.fixture
def loaded(window):
    """The window with a 64² face loaded and the fake model rendering."""
    image, mask = face_pair()
    window.doc.load_face(mask, image, "face")
    editor = FakeEditor()
    window.set_editor(editor)
    window.worker.wait_until_idle(5)
    return window


@pytest.fixture
def reference_file(tmp_path):
    """A face photo with its mask stored next to it (``<stem>_mask.png``), as a reference to drop."""
    image, mask = face_pair()
    image = image[:, ::-1].copy()
    mask = np.where(mask == 1, 1, 13).astype(np.uint8)
    path = tmp_path / "ref.png"
    Image.fromarray(image).save(path)
    Image.fromarray(mask).save(tmp_path / "ref_mask.png")
    return path
