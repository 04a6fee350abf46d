"""``main.py parse``: one photo to a file, several to a folder, masks at the photos' resolution."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import main
from ca2sis.photo import load_mask

from .helpers import save_tiny_bundled


@pytest.fixture
def tiny_models(tmp_path, monkeypatch):
    models = tmp_path / "models"
    save_tiny_bundled(models)
    monkeypatch.setenv("CA2SIS_MODELS", str(models))
    from ca2sis.parsing import _CACHE

    _CACHE.clear()
    return models


def write_photo(path, h, w, seed=0):
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (h, w, 3)).astype(np.uint8)).save(path)
    return path


def test_one_aligned_photo_to_a_mask_file_with_preview(tmp_path, tiny_models):
    src = write_photo(tmp_path / "face.jpg", 300, 300)
    rc = main.main(["parse", str(src), "-o", str(tmp_path / "out" / "mask.png"), "--aligned", "--preview"])
    assert rc == 0
    mask = load_mask(tmp_path / "out" / "mask.png")
    assert mask.shape == (300, 300) and mask.max() < 19
    assert Image.open(tmp_path / "out" / "mask.png").mode == "P"
    assert Image.open(tmp_path / "out" / "mask_preview.png").mode == "RGB"


def test_several_photos_go_to_a_folder_named_after_them_and_bad_ones_do_not_stop_the_rest(
    tmp_path, tiny_models, caplog
):
    a = write_photo(tmp_path / "anna.png", 120, 100)
    b = write_photo(tmp_path / "ben.jpg", 64, 64, 1)
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8 not really")
    rc = main.main(["parse", str(a), str(bad), str(b), "-o", str(tmp_path / "masks"), "--aligned"])
    assert rc == 1
    assert sorted(p.name for p in (tmp_path / "masks").iterdir()) == ["anna.png", "ben.png"]
    assert load_mask(tmp_path / "masks" / "anna.png").shape == (120, 100)
    assert "broken.jpg" in caplog.text


def test_no_face_without_whole_image_fails_clearly(tmp_path, tiny_models, monkeypatch, caplog):
    import ca2sis.photo.portrait as portrait_mod

    monkeypatch.setattr(portrait_mod, "detect_faces", lambda photo, detector="auto": [])
    src = write_photo(tmp_path / "wall.png", 80, 120)
    assert main.main(["parse", str(src), "-o", str(tmp_path / "m.png")]) == 1
    assert "no face found" in caplog.text
    assert main.main(["parse", str(src), "-o", str(tmp_path / "m.png"), "--whole-image"]) == 0
    assert load_mask(tmp_path / "m.png").shape == (80, 120)


def test_models_load_once_per_call(tmp_path, tiny_models, monkeypatch):
    import ca2sis.parsing as parsing

    calls = []
    real = parsing.load_parser
    monkeypatch.setattr(parsing, "load_parser", lambda *a, **k: calls.append(a) or real(*a, **k))
    photos = [str(write_photo(tmp_path / f"p{i}.png", 64, 64, i)) for i in range(3)]
    assert main.main(["parse", *photos, "-o", str(tmp_path / "out"), "--aligned"]) == 0
    assert len(calls) == 1


def test_unknown_backend_is_reported(tmp_path, tiny_models, capsys):
    src = write_photo(tmp_path / "f.png", 64, 64)
    assert main.main(["parse", str(src), "-o", str(tmp_path / "m.png"), "--backend", "nope"]) == 2
    assert "unknown parser 'nope'" in capsys.readouterr().err


def test_success_says_what_was_written_where(tmp_path, tiny_models, capsys):
    src = write_photo(tmp_path / "face.jpg", 64, 64)
    out = tmp_path / "out" / "mask.png"
    assert main.main(["parse", str(src), "-o", str(out), "--aligned", "--preview"]) == 0
    printed = capsys.readouterr().out
    assert str(out) in printed and str(out.with_name("mask_preview.png")) in printed and str(src) in printed


def test_faces_json_lists_every_face_with_named_landmarks_and_no_mask(tmp_path, tiny_models, monkeypatch):
    import json

    from ca2sis.photo import save_image
    from ca2sis.photo.align import LANDMARK_NAMES
    from tests.sample_scenes import two_face_photo

    scene = two_face_photo()
    save_image(tmp_path / "two.jpg", scene.photo)
    monkeypatch.setattr("ca2sis.parsing.load_parser", lambda *a, **k: pytest.fail("detection alone: no parser"))
    out = tmp_path / "faces" / "two.json"
    assert main.main(["parse", str(tmp_path / "two.jpg"), "--faces-json", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["detector"] == "mobilenet" and [p.name for p in out.parent.iterdir()] == ["two.json"]
    photo = record["photos"][0]
    assert (photo["width"], photo["height"]) == (1400, 1000) and len(photo["faces"]) == 2
    for face in photo["faces"]:
        assert list(face["landmarks"]) == list(LANDMARK_NAMES) and 0.9 < face["score"] <= 1
        x0, y0, x1, y1 = face["box"]
        assert 0 <= x0 < x1 <= 1400 and 0 <= y0 < y1 <= 1000
        eyes = np.array([face["landmarks"]["left_eye"], face["landmarks"]["right_eye"]])
        truth = min(scene.faces, key=lambda f: np.linalg.norm(f.landmarks[:2].mean(0) - eyes.mean(0)))
        assert np.abs(eyes - truth.landmarks[:2]).max() < 8  # left is the image's left: never swapped
    assert not (tmp_path / "two.png").exists()


def test_faces_json_beside_masks_reuses_the_detection(tmp_path, tiny_models, monkeypatch):
    import json

    import ca2sis.photo.portrait as portrait_mod
    from ca2sis.photo.align import FaceBox

    faces = [FaceBox((10, 10, 60, 70), [[20, 30], [45, 30], [33, 42], [24, 55], [42, 55]], 0.97, "test")]
    monkeypatch.setattr(portrait_mod, "detect_faces", lambda photo, detector="auto": faces)
    src = write_photo(tmp_path / "p.png", 100, 120)
    out = tmp_path / "faces.json"
    assert main.main(["parse", str(src), "-o", str(tmp_path / "m.png"), "--faces-json", str(out)]) == 0
    assert load_mask(tmp_path / "m.png").shape == (100, 120)
    assert json.loads(out.read_text())["photos"][0]["faces"][0]["landmarks"]["nose"] == [33.0, 42.0]


@pytest.mark.parametrize(("args", "says"), [
    ([], "give -o OUT"),
    (["--faces-json", "f.json", "--aligned"], "--aligned skips detection"),
    (["--faces-json", "f.txt"], "must end in .json"),
    (["--faces-json", "f.json", "--detector", "haar"], "unknown face detector 'haar'"),
])
def test_faces_json_misuse_is_explained(tmp_path, tiny_models, capsys, args, says):
    src = write_photo(tmp_path / "f.png", 64, 64)
    assert main.main(["parse", str(src), *[str(tmp_path / a) if a.startswith("f.") else a for a in args]]) == 2
    assert says in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["directory", "fifo", "under-a-file"])
def test_a_faces_json_that_cannot_be_written_is_refused_before_detection(tmp_path, tiny_models, monkeypatch,
                                                                          capsys, kind):
    import os

    src = write_photo(tmp_path / "f.png", 64, 64)
    out = tmp_path / "faces.json"
    if kind == "directory":
        out.mkdir()
    elif kind == "fifo":
        os.mkfifo(out)
    else:
        (tmp_path / "a-file").write_text("x")
        out = tmp_path / "a-file" / "faces.json"
    monkeypatch.setattr("ca2sis.photo.align.detect_faces", lambda *a, **k: pytest.fail("refused before detection"))
    assert main.main(["parse", str(src), "--faces-json", str(out)]) == 2
    assert str(out) in capsys.readouterr().err
    left = sorted(p.name for p in tmp_path.iterdir() if p.name != "models")  # models/: the fixture's
    assert left == sorted(["f.png", "a-file" if kind == "under-a-file" else "faces.json"])
