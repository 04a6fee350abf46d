"""The first run: a blank document offers ways to start instead of rendering an empty mask."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from app.welcome import TEMPLATE_MASK, is_blank, template_mask
from ca2sis.classes import CELEBAMASK_HQ
from tests.app.fakes import FakeEditor

pytestmark = pytest.mark.gui


@pytest.fixture
def with_model(window):
    editor = FakeEditor()
    window.set_editor(editor)
    window.worker.wait_until_idle(5)
    return window, editor


def test_a_blank_document_shows_the_ways_to_start_and_renders_nothing(with_model):
    window, editor = with_model
    assert is_blank(window.doc)
    assert window.right.currentWidget() is window.welcome
    assert editor.requests == []  # no ghost of a face from an all-background mask
    assert {"template", "astronaut"} <= set(window.welcome.tiles)


def test_the_template_face_starts_a_document_with_random_styles(with_model, qtbot):
    window, editor = with_model
    QTest.mouseClick(window.welcome.tiles["template"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(editor.requests), timeout=5000)
    assert window.doc.name == "Template face" and window.doc.face is None
    assert np.array_equal(window.doc.mask, template_mask(CELEBAMASK_HQ))
    assert editor.requests[-1].own_key is None  # no photo: the styles come from the mapping network
    assert window.right.currentWidget() is window.result


def test_a_sample_tile_opens_that_portrait(with_model, qtbot):
    window, _ = with_model
    QTest.mouseClick(window.welcome.tiles["astronaut"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.doc.face is not None, timeout=10000)
    assert window.doc.name == "astronaut" and window.right.currentWidget() is window.result


def test_painting_on_the_blank_mask_starts_rendering(with_model, qtbot):
    window, editor = with_model
    canvas = window.canvas
    window.tools.current_class = 1
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     canvas.to_widget(200, 200).toPoint())
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       canvas.to_widget(200, 200).toPoint() + QPoint(1, 0))
    qtbot.waitUntil(lambda: bool(editor.requests), timeout=5000)
    assert window.right.currentWidget() is window.result


def test_the_template_is_a_symmetric_face_with_every_main_part():
    mask = template_mask(CELEBAMASK_HQ)
    assert mask.shape == (512, 512)
    names = {CELEBAMASK_HQ[c].name for c in np.unique(mask)}
    assert {"skin", "nose", "l_eye", "r_eye", "l_brow", "r_brow", "u_lip", "l_lip", "hair", "neck"} <= names
    flipped = CELEBAMASK_HQ.flip_lut()[mask[:, ::-1]]
    assert np.array_equal(flipped, mask)  # left and right parts mirror each other
    assert TEMPLATE_MASK.stat().st_size < 20_000  # a small statistic, not a picture of anyone


def test_the_template_script_votes_per_pixel_and_mirrors_left_and_right(tmp_path):
    from resources.template.make_template import main

    masks = tmp_path / "masks"
    masks.mkdir()
    from PIL import Image

    for i in range(3):  # skin, and two eyes in two of three masks, one of them a pixel off its mirror
        m = np.ones((32, 32), np.uint8)
        if i < 2:
            m[10:14, 20:26] = 4  # l_eye (the subject's left: the photo's right side)
            m[10:14, 6 + i : 12 + i] = 5  # r_eye
        m[0, 0] = 13  # a stray pixel of hair, fewer than --min-area: merged into the skin around it
        Image.fromarray(m).save(masks / f"{i}.png")
    out = tmp_path / "template.png"
    assert main(["--data", str(tmp_path), "--size", "32", "--min-area", "4", "--out", str(out)]) == 0
    template = np.asarray(Image.open(out))
    assert (template[10:14, 21:25] == 4).all() and (template[10:14, 7:11] == 5).all()  # where most masks agree
    assert np.array_equal(CELEBAMASK_HQ.flip_lut()[template[:, ::-1]], template)
    assert set(np.unique(template)) == {1, 4, 5}
