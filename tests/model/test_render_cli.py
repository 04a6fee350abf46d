"""``main.py render`` from the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import main
from ca2sis.checkpoint import save_model
from ca2sis.classes import CELEBAMASK_HQ
from ca2sis.editor import Editor
from tests.model.conftest import face_like_mask, photo_like

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def files(tmp_path: Path, tiny_model):
    weights = tmp_path / "tiny.safetensors"
    save_model(weights, tiny_model)
    mask = face_like_mask(64)
    photo = photo_like(64, seed=3)
    Image.fromarray(mask).save(tmp_path / "mask.png")
    Image.fromarray(photo).save(tmp_path / "photo.png")
    Image.fromarray(photo_like(64, seed=4)).save(tmp_path / "other.png")
    return tmp_path, weights, photo, mask


def test_reconstruction_writes_the_rendered_image(files) -> None:
    folder, weights, photo, mask = files
    out = folder / "out.png"
    code = main.main(["render", "--weights", str(weights), "--mask", str(folder / "mask.png"),
                      "--style-image", str(folder / "photo.png"), "--device", "cpu", "--precision", "fp32",
                      "--out", str(out)])
    assert code == 0
    written = np.asarray(Image.open(out))
    editor = Editor.load(weights, device="cpu", precision="fp32")
    np.testing.assert_array_equal(written, editor.reconstruct(photo, mask))


def test_swap_and_colour_masks_and_random_styles(files) -> None:
    folder, weights, _, mask = files
    Image.fromarray(CELEBAMASK_HQ.colorize(mask)).save(folder / "mask_colour.png")
    out = folder / "swap.png"
    code = main.main(["render", "--weights", str(weights), "--mask", str(folder / "mask_colour.png"),
                      "--style-image", str(folder / "photo.png"), "--style-mask", str(folder / "mask.png"),
                      "--swap", f"hair={folder / 'other.png'}:{folder / 'mask.png'}", "--out", str(out)])
    assert code == 0 and np.asarray(Image.open(out)).shape == (32, 32, 3)
    code = main.main(["render", "--weights", str(weights), "--mask", str(folder / "mask.png"), "--seed", "5",
                      "--out", str(folder / "random.png")])
    assert code == 0


def test_a_wrong_weights_file_exits_non_zero_naming_the_mismatch(files, capsys) -> None:
    folder, _, _, _ = files
    bad = folder / "latest_net_G.pth"
    torch.save({"encs.encs.0.weight": torch.zeros(256, 16384)}, bad)
    code = main.main(["render", "--weights", str(bad), "--mask", str(folder / "mask.png"),
                      "--out", str(folder / "x.png")])
    assert code != 0
    assert "no style encoder" in capsys.readouterr().err
    assert not (folder / "x.png").exists()


def test_an_unknown_class_in_swap_is_reported(files, capsys) -> None:
    folder, weights, _, _ = files
    code = main.main(["render", "--weights", str(weights), "--mask", str(folder / "mask.png"),
                      "--swap", f"beard={folder / 'other.png'}:{folder / 'mask.png'}", "--out", str(folder / "x.png")])
    assert code == 2 and "unknown class 'beard'" in capsys.readouterr().err


def test_main_py_runs_as_a_script(files) -> None:
    folder, weights, _, _ = files
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "render", "--weights", str(weights),
                           "--mask", str(folder / "mask.png"), "--out", str(folder / "s.png")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "wrote" in proc.stdout


def test_photo_edits_the_photo_in_place_keeping_its_background(files, tmp_path) -> None:
    from ca2sis.photo import save_image
    from tests.sample_scenes import sample_scene

    folder, weights, _, mask = files
    scene = sample_scene([(0.7, 10.0, (420.0, 330.0))], size=(800, 640), names=("astronaut",))
    save_image(folder / "portrait.jpg", scene.photo)
    photo = np.asarray(Image.open(folder / "portrait.jpg")).astype(int)
    out = folder / "edited.png"
    code = main.main(["render", "--weights", str(weights), "--photo", str(folder / "portrait.jpg"),
                      "--swap", f"hair={folder / 'other.png'}:{folder / 'mask.png'}", "--out", str(out)])
    assert code == 0
    edited = np.asarray(Image.open(out)).astype(int)
    assert edited.shape == photo.shape
    changed = np.abs(edited - photo).max(2) > 6
    face = scene.faces[0].centre.astype(int)
    assert changed[face[1] - 40 : face[1] + 40, face[0] - 40 : face[0] + 40].mean() > 0.5  # the face: rendered
    # Corners of the face's square are the photo's background: untouched, no generated square.
    corners = (scene.faces[0].matrix[:, :2] @ np.array([[20, 20], [492, 20]]).T).T + scene.faces[0].matrix[:, 2]
    for x, y in corners.astype(int):
        assert not changed[y - 5 : y + 5, x - 5 : x + 5].any()


def test_photo_and_style_image_together_are_refused(files, capsys) -> None:
    folder, weights, _, _ = files
    code = main.main(["render", "--weights", str(weights), "--photo", str(folder / "photo.png"),
                      "--style-image", str(folder / "photo.png"), "--out", str(folder / "x.png")])
    assert code == 2 and "--photo gives the styles itself" in capsys.readouterr().err
    assert main.main(["render", "--weights", str(weights), "--out", str(folder / "x.png")]) == 2
    assert "give the layout to render with --mask" in capsys.readouterr().err


def test_a_photo_can_be_fitted_before_it_is_edited_in_place(files, capsys) -> None:
    from ca2sis.photo import save_image
    from tests.sample_scenes import sample_scene

    folder, weights, _, _ = files
    scene = sample_scene([(0.7, 0.0, (400.0, 320.0))], size=(800, 640), names=("astronaut",))
    save_image(folder / "portrait.jpg", scene.photo)
    out = folder / "fitted.png"
    code = main.main(["render", "--weights", str(weights), "--photo", str(folder / "portrait.jpg"),
                      "--fit", "2", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    assert "reconstruction PSNR" in capsys.readouterr().out
    assert np.asarray(Image.open(out)).shape == scene.photo.shape
