"""``main.py render --fit``: the photo is fitted first, and the PSNR before and after is printed."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

import main
from ca2sis.editor import Editor
from tests.model.conftest import face_like_mask, photo_like


@pytest.fixture
def files(tmp_path, weights):
    Image.fromarray(face_like_mask(64)).save(tmp_path / "mask.png")
    Image.fromarray(photo_like(64, seed=3)).save(tmp_path / "photo.png")
    return tmp_path, weights


def render(folder, weights, *extra: str) -> int:
    return main.main(["render", "--weights", str(weights), "--mask", str(folder / "mask.png"), "--device", "cpu",
                      "--precision", "fp32", "--out", str(folder / "out.png"), *extra])


def test_fit_prints_psnr_before_and_after_and_renders_the_fitted_face(files, capsys) -> None:
    folder, weights = files
    assert render(folder, weights, "--style-image", str(folder / "photo.png"), "--fit", "6") == 0
    out = capsys.readouterr().out
    before, after = map(float, re.search(r"PSNR ([\d.]+) dB before, ([\d.]+) dB after", out).groups())
    assert after > before and "6 steps" in out
    fitted = np.asarray(Image.open(folder / "out.png"))
    editor = Editor.load(weights, device="cpu", precision="fp32")
    plain = editor.reconstruct(photo_like(64, seed=3), face_like_mask(64))
    assert np.abs(fitted.astype(int) - plain).mean() > 1  # not the unfitted reconstruction


def test_fit_zero_is_off(files, capsys) -> None:
    folder, weights = files
    assert render(folder, weights, "--style-image", str(folder / "photo.png"), "--fit", "0") == 0
    assert "PSNR" not in capsys.readouterr().out


@pytest.mark.parametrize(("args", "message"), [
    (["--fit", "-2"], "0 or more"),
    (["--fit", "many"], "number of steps or auto"),
])
def test_bad_fit_arguments_are_refused(files, capsys, args, message) -> None:
    folder, weights = files
    with pytest.raises(SystemExit):
        render(folder, weights, "--style-image", str(folder / "photo.png"), *args)
    assert message in capsys.readouterr().err


def test_fit_needs_a_photo(files, capsys) -> None:
    folder, weights = files
    assert render(folder, weights, "--fit", "auto") == 2
    assert "--fit needs --style-image" in capsys.readouterr().err
