"""Real photos through the real (offline) pipeline: the bundled detector, the picker, the small-face
warning, and the edited face pasted back without its square."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QMessageBox

from app import file_ops
from app.dialogs import FacePicker
from app.services import discover
from tests.app.fakes import FakeEditor
from tests.sample_scenes import SAMPLES, sample_face, sample_scene, two_face_photo

pytestmark = pytest.mark.gui


@pytest.fixture
def services():
    found = discover()
    if found.open_portrait is None:
        pytest.skip(f"the photo pipeline is not importable here: {found.missing}")
    return found


def save(tmp_path, rgb: np.ndarray, name: str):
    path = tmp_path / name
    Image.fromarray(rgb).save(path, quality=95)
    return path


def central_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Mean |a − b| over the middle of two 512² aligned faces (eyes, nose, mouth)."""
    return float(np.abs(a.astype(int) - b)[160:400, 140:372].mean())


def test_the_two_face_photo_offers_both_faces_largest_first_and_opens_the_chosen_one(
    window, tmp_path, monkeypatch, qtbot
):
    scene = two_face_photo()
    shown: list[FacePicker] = []

    def pick_the_second(picker: FacePicker) -> int:
        shown.append(picker)
        picker.list.setCurrentRow(1)
        return 1

    monkeypatch.setattr(FacePicker, "exec", pick_the_second)
    window.files.open_photo(save(tmp_path, scene.photo, "two people.jpg"))
    qtbot.waitUntil(lambda: window.doc.name == "two people", timeout=30000)
    assert len(shown) == 1 and shown[0].list.count() == 2
    texts = [shown[0].list.item(i).text() for i in range(2)]
    sizes = [int(t.split("\n")[1].split(" px")[0]) for t in texts]
    assert sizes[0] >= sizes[1] > 250 and all(" · 0.9" in t or " · 1.0" in t for t in texts)
    # Row 1 is the smaller face: the astronaut (60% against 62%), now aligned as her sample was.
    _, astronaut, _, _ = sample_face("astronaut")
    assert central_difference(window.doc.face, astronaut) < 20
    assert window.doc.context.transform is not None and window.doc.mask.shape == (512, 512)
    assert {4, 5, 10} & set(np.unique(window.doc.mask).tolist())  # the parser sees eyes or a mouth


def test_the_astronaut_sample_opens_as_a_photo_without_a_picker(window, tmp_path, monkeypatch, qtbot):
    monkeypatch.setattr(FacePicker, "exec", lambda self: pytest.fail("one face: no picker"))
    photo = np.asarray(Image.open(SAMPLES / "astronaut.png").convert("RGB"))
    window.files.open_photo(save(tmp_path, photo, "astronaut photo.png"))  # no mask beside it: detection runs
    qtbot.waitUntil(lambda: window.doc.name == "astronaut photo", timeout=30000)
    # Already aligned: framed again within a few pixels (her mouth sits higher than the template's).
    m = window.doc.context.transform.matrix
    assert 0.93 < window.doc.context.transform.scale < 1.07 and np.abs(m[:, 2]).max() < 24
    assert abs(np.degrees(np.arctan2(m[1, 0], m[0, 0]))) < 4


def test_the_sample_itself_opens_with_its_own_mask(window, qtbot):
    window.files.open_photo(SAMPLES / "astronaut.png")
    qtbot.waitUntil(lambda: window.doc.name == "astronaut", timeout=30000)
    expected = np.asarray(Image.open(SAMPLES / "astronaut_mask.png"))
    assert np.array_equal(window.doc.mask, expected)


def test_a_face_too_small_for_the_model_is_questioned_before_it_opens(window, tmp_path, monkeypatch, qtbot):
    asked: list[str] = []

    def answer_no(parent, title, text, *args, **kwargs):
        asked.append(text)
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", answer_no)
    editor = FakeEditor()
    editor.resolution = 256
    window.set_editor(editor)
    scene = sample_scene([(0.3, 0.0, (400.0, 300.0))], size=(800, 600), names=("astronaut",))
    window.files.open_photo(save(tmp_path, scene.photo, "far away.jpg"), confirmed=True)
    qtbot.waitUntil(lambda: bool(asked), timeout=30000)
    side = int(re.search(r"square is (\d+) px", asked[0]).group(1))
    assert 120 < side < 190 and "the model draws 256 px" in asked[0] and "at least 256 px" in asked[0]
    qtbot.wait(200)
    assert window.doc.name != "far away"  # the user said no: nothing was opened


def test_the_picker_marks_small_faces_and_says_what_size_is_needed(qtbot):
    scene = sample_scene([(0.62, 0.0, (300.0, 300.0)), (0.2, 0.0, (800.0, 300.0))], size=(1000, 600))
    from ca2sis.photo.align import detect_faces

    faces = detect_faces(scene.photo)
    assert len(faces) == 2
    picker = FacePicker(scene.photo, faces[::-1], 0, None, resolution=128)  # given smallest first
    qtbot.addWidget(picker)
    first, second = picker.list.item(0), picker.list.item(1)
    assert "small" not in first.text() and "⚠ small" in second.text()
    assert "at least 128 px" in second.toolTip()
    picker.list.setCurrentRow(0)
    assert picker.choice == 1  # the largest face, which was second in the list given


def test_the_exported_photo_keeps_its_own_background(window, tmp_path, monkeypatch, qtbot):
    monkeypatch.setattr(file_ops.FileOps, "_choose_face", lambda self, opened: 0)
    scene = two_face_photo(seed=3)
    window.files.open_photo(save(tmp_path, scene.photo, "pair.png"))
    qtbot.waitUntil(lambda: window.doc.name == "pair", timeout=30000)
    window.set_editor(FakeEditor())  # renders the mask's colours: a black background, a red face
    qtbot.waitUntil(lambda: window.last_result is not None, timeout=5000)
    assert window.files.export_pasted(tmp_path / "pair-edited.png")
    export = np.asarray(Image.open(tmp_path / "pair-edited.png")).astype(int)
    changed = np.abs(export - scene.photo).max(2) > 8
    person = window.doc.context.transform  # the chosen face's square in the photo, where a paste may act
    corners = person.to_photo(np.array([[0, 0], [511, 0], [0, 511], [511, 511]]))
    x0, y0 = np.maximum(corners.min(0).astype(int), 0)
    x1, y1 = corners.max(0).astype(int)
    square = changed[y0:y1, x0:x1]
    assert 0.15 < square.mean() < 0.7  # the person changed, the background around it did not
    assert not changed[:, : max(0, x0 - 2)].any() and not changed[:, x1 + 2 :].any()


def test_the_paste_reaches_where_styles_and_shape_morphs_changed_the_face():
    from app.document import Document, ReferenceFace
    from app.export import edit_reach
    from ca2sis.requests import ShapeSource, StyleSource

    doc = Document()
    mask = np.zeros((512, 512), np.uint8)
    mask[100:300, 150:350] = 13  # hair
    mask[200:450, 180:330] = 1
    doc.load_face(mask, np.zeros((512, 512, 3), np.uint8), "face")
    assert edit_reach(doc) == (set(), None)
    ref_mask = np.zeros((256, 256), np.uint8)
    ref_mask[20:200, 20:236] = 13  # the reference's hair is much wider (and its mask smaller)
    ref = doc.add_reference(ReferenceFace.make("ref", np.zeros((256, 256, 3), np.uint8), ref_mask))
    doc.set_style(13, StyleSource("reference", ref.key))
    doc.set_shape(13, ShapeSource(ref.key, 0.5))
    restyled, reach = edit_reach(doc)
    assert restyled == {13}
    assert reach[60, 60] and reach[150, 200]  # the reference's hair (at this size) and the face's own
    assert not reach[480, 10]
