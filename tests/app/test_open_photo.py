"""Opening photos: progress, choosing among several faces, no face found, paste-back."""

from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QMessageBox

from app import file_ops
from app.services import FaceNotFound, Services
from tests.app.fakes import face_pair

pytestmark = pytest.mark.gui


class FakePipeline:
    """open_portrait with two faces in every photo (none when the file name says so)."""

    def __init__(self):
        self.calls = []

    def __call__(self, path, face_index=None, whole_image_if_no_face=False, progress=None):
        self.calls.append((face_index, whole_image_if_no_face))
        if progress:
            progress("detecting faces", 0.5)
        photo = np.zeros((100, 160, 3), np.uint8)
        if "noface" in str(path) and not whole_image_if_no_face:
            raise FaceNotFound("no face in the photo")
        image, mask = face_pair()
        boxes = [SimpleNamespace(box=(10, 10, 60, 70), score=0.99), SimpleNamespace(box=(90, 20, 140, 80), score=0.9)]
        index = 0 if face_index is None else face_index
        mask = mask.copy()
        mask[0, 0] = 2 + index  # tells the faces apart
        return SimpleNamespace(photo=photo, faces=[] if whole_image_if_no_face else boxes, face_index=index,
                               aligned=image, mask=mask, transform=None, warnings=[], pad=(0, 30))


@pytest.fixture
def services():
    return Services(open_portrait=FakePipeline())


def photo_file(tmp_path, name="group.jpg"):
    path = tmp_path / name
    Image.fromarray(np.zeros((100, 160, 3), np.uint8)).save(path)
    return path


def test_with_several_faces_the_user_picks_one(window, tmp_path, monkeypatch, qtbot):
    class Picker:
        def __init__(self, photo, faces, selected, parent, resolution=None):
            assert len(faces) == 2 and selected == 0
            self.choice = 1

        def exec(self):
            return True

    monkeypatch.setattr(file_ops, "FacePicker", Picker)
    window.files.open_photo(photo_file(tmp_path))
    qtbot.waitUntil(lambda: window.doc.name == "group" and window.doc.mask[0, 0] == 3, timeout=5000)
    assert window.services.open_portrait.calls == [(None, False), (1, False)]


def test_no_face_offers_the_whole_image(window, tmp_path, monkeypatch, qtbot):
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    window.files.open_photo(photo_file(tmp_path, "noface.jpg"))
    qtbot.waitUntil(lambda: window.doc.name == "noface", timeout=5000)
    assert window.services.open_portrait.calls == [(None, False), (None, True)]


def test_the_result_is_pasted_back_into_the_padded_photo(window, tmp_path, monkeypatch, qtbot):
    from tests.app.fakes import FakeEditor

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    window.files.open_photo(photo_file(tmp_path, "noface.jpg"))
    qtbot.waitUntil(lambda: window.doc.name == "noface", timeout=5000)
    window.set_editor(FakeEditor())
    window.worker.wait_until_idle(5)
    qtbot.waitUntil(lambda: window.last_result is not None, timeout=3000)
    assert window.files.export_pasted(tmp_path / "full.png")
    assert np.asarray(Image.open(tmp_path / "full.png")).shape == (100, 160, 3)


def test_zoom_and_pan_keep_painting_aligned(loaded):
    canvas = loaded.canvas
    canvas.zoom(3.0)
    x, y = canvas.to_image(canvas.to_widget(10.25, 20.75))
    assert (x, y) == pytest.approx((10.25, 20.75))
    canvas.fit()
    assert canvas.scale == pytest.approx(min(canvas.width(), canvas.height()) / 64 * 0.98)


def test_mp4_export(tmp_path):
    pytest.importorskip("imageio_ffmpeg")
    from app.export import write_animation

    frames = [np.full((64, 64, 3), v, np.uint8) for v in (0, 120, 240)]
    path = write_animation(tmp_path / "a.mp4", frames, fps=5)
    assert path.stat().st_size > 0 and [p.name for p in tmp_path.iterdir()] == ["a.mp4"]
    with pytest.raises(ValueError, match="gif or .mp4"):
        write_animation(tmp_path / "a.avi", frames)


def test_open_any_tells_masks_from_photos(window, tmp_path):
    _, mask = face_pair()
    Image.fromarray(mask).save(tmp_path / "m.png")
    window.files.open_any(tmp_path / "m.png")
    window.worker.wait_until_idle(5)
    assert np.array_equal(window.doc.mask, mask) and window.doc.face is None


def test_sample_portraits_are_the_faces_beside_their_masks(tmp_path):
    from app.actions import sample_portraits

    for name in ("b.png", "b_mask.png", "a.png", "a_mask.png"):
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / name)
    assert [p.name for p in sample_portraits(tmp_path)] == ["a.png", "b.png"]
    assert sample_portraits(tmp_path / "missing") == []


def test_file_menu_opens_a_bundled_sample_with_its_mask(window, qtbot):
    from app.actions import sample_portraits

    samples = sample_portraits()
    if not samples:
        pytest.skip("no sample portraits in resources/samples")
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    sample_menu = next(a.menu() for a in menu.actions() if a.text() == "Open &Sample")
    sample_menu.actions()[0].trigger()
    qtbot.waitUntil(lambda: window.doc.name == samples[0].stem, timeout=10000)
    expected = np.asarray(Image.open(samples[0].with_name(samples[0].stem + "_mask.png")))
    assert window.doc.mask.shape == expected.shape
