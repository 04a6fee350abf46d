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
    import ca2sis.portrait as portrait_mod

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
