"""The one-call pipeline: photo → chosen face aligned and parsed, and back into the photo."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import ca2sis.photo.portrait as portrait_mod
from ca2sis.photo import PhotoError
from ca2sis.photo.align import TEMPLATE_512, FaceBox, NoFaceError
from ca2sis.photo.portrait import as_rgb, open_portrait


class FakeParser:
    """Labels everything skin (1): tests the pipeline, not the network."""

    name = "fake"

    def __init__(self) -> None:
        self.calls = 0

    def parse(self, aligned_rgb: np.ndarray) -> np.ndarray:
        self.calls += 1
        assert aligned_rgb.shape == (512, 512, 3)
        return np.ones(aligned_rgb.shape[:2], np.uint8)


def face_at(offset, scale=1.0) -> FaceBox:
    lm = TEMPLATE_512 * scale + offset
    return FaceBox((*(lm.min(0) - 50 * scale), *(lm.max(0) + 50 * scale)), lm)


@pytest.fixture
def two_faces(monkeypatch):
    faces = [face_at((100, 50), 0.8), face_at((700, 300), 0.1)]  # a big face and a tiny one
    monkeypatch.setattr(portrait_mod, "detect_faces", lambda photo, detector="auto": faces)
    return faces


def photo(h=900, w=1200) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (h, w, 3)).astype(np.uint8)


def test_largest_face_is_chosen_and_several_faces_are_mentioned(two_faces):
    stages = []
    p = open_portrait(photo(), FakeParser(), progress=lambda s, f: stages.append(f))
    assert p.face_index == 0 and p.face is two_faces[0] and len(p.faces) == 2
    assert p.aligned.shape == (512, 512, 3) and p.mask.shape == (512, 512) and p.transform is not None
    assert any("2 faces" in w for w in p.warnings)
    assert stages[0] == 0.0 and stages[-1] == 1.0 and stages == sorted(stages)


def test_a_tiny_face_warns(two_faces):
    p = open_portrait(photo(), FakeParser(), face_index=1)
    assert any("under 64" in w for w in p.warnings)
    assert not any("faces found" in w for w in p.warnings)  # the user chose it


def test_switching_faces_reuses_detection(two_faces):
    parser = FakeParser()
    p = open_portrait(photo(), parser)
    q = p.with_face(1, parser)
    assert q.face_index == 1 and parser.calls == 2 and any("under 64" in w for w in q.warnings)
    with pytest.raises(ValueError, match="face 5 does not exist; 2 face"):
        p.with_face(5, parser)


def test_no_face_is_a_clear_error_or_the_whole_image(monkeypatch):
    monkeypatch.setattr(portrait_mod, "detect_faces", lambda photo, detector="auto": [])
    with pytest.raises(NoFaceError, match="no face found.*whole image"):
        open_portrait(photo(300, 400), FakeParser())
    p = open_portrait(photo(300, 400), FakeParser(), whole_image_if_no_face=True)
    assert p.transform is None and p.face_index == -1 and "whole image" in p.warnings[0]
    assert p.mask_in_photo().shape == (300, 400)
    back = p.paste(p.aligned)
    assert back.shape == (300, 400, 3)
    assert np.abs(back.astype(int) - p.photo).mean() < 40  # resampled twice through 512², but the same


def test_round_trip_through_the_portrait(two_faces):
    src = np.full((900, 1200, 3), 100, np.uint8)
    src[:, :, 1] = np.linspace(0, 255, 1200).astype(np.uint8)[None]
    p = open_portrait(src, FakeParser())
    back = p.paste(p.aligned_at(256))
    assert back.shape == src.shape and np.abs(back.astype(int) - src).mean() < 1.0
    full = p.mask_in_photo()
    assert full.shape == (900, 1200) and full[0, -1] == 0 and full[400, 400] == 1


def test_aligned_crops_skip_detection(monkeypatch):
    monkeypatch.setattr(portrait_mod, "detect_faces", lambda *a, **k: pytest.fail("no detection wanted"))
    p = open_portrait(photo(256, 256), FakeParser(), aligned=True)
    assert p.transform is None and p.warnings == [] and p.mask_in_photo().shape == (256, 256)
    q = open_portrait(photo(200, 300), FakeParser(), aligned=True)
    assert "square" in q.warnings[0]


def test_files_are_decoded_with_their_warnings(tmp_path, two_faces):
    Image.fromarray(photo(600, 800)).save(tmp_path / "p.png")
    p = open_portrait(tmp_path / "p.png", FakeParser())
    assert p.photo.shape == (600, 800, 3) and p.source.endswith("p.png")
    (tmp_path / "bad.png").write_bytes(b"nope")
    with pytest.raises(PhotoError, match="bad.png"):
        open_portrait(tmp_path / "bad.png", FakeParser())


def test_arrays_of_any_common_kind_are_accepted():
    assert as_rgb(np.zeros((4, 5), np.uint8)).shape == (4, 5, 3)
    assert as_rgb(np.full((4, 5), 65535, np.uint16))[0, 0, 0] == 255
    assert as_rgb(np.ones((4, 5, 3), np.float32))[0, 0, 0] == 255
    rgba = np.zeros((2, 2, 4), np.uint8)
    assert tuple(as_rgb(rgba)[0, 0]) == (255, 255, 255)
    with pytest.raises(PhotoError, match="shape"):
        as_rgb(np.zeros((4, 5, 2), np.uint8))
