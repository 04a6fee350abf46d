"""`python main.py --screenshot OUT.png [--open PHOTO]`: the app's own smoke test."""

import ast
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.app.fakes import face_pair

pytestmark = pytest.mark.gui
APP = Path(__file__).resolve().parents[2] / "app"


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_gui_layer_never_imports_torch():
    for path in APP.glob("*.py"):
        bad = {n for n in imported_modules(path) if n.split(".")[0] == "torch"}
        assert not bad, f"app/{path.name} imports {bad}; reach the model through ca2sis.editor"


def test_the_library_never_imports_qt():
    for path in (APP.parent / "ca2sis").rglob("*.py"):
        bad = {n for n in imported_modules(path) if n.split(".")[0] in ("PySide6", "PyQt5", "PyQt6", "app")}
        assert not bad, f"{path.relative_to(APP.parent)} imports {bad}; the library stays GUI-free"


def test_screenshot_without_a_model_shows_the_first_run_state(qapp, tmp_path):
    from app.launch import main

    out = tmp_path / "shot.png"
    assert main(["--screenshot", str(out), "--timeout", "60"]) == 0
    image = np.asarray(Image.open(out))
    assert image.shape[0] > 400 and image.shape[1] > 600 and image.std() > 5


@pytest.mark.slow  # builds a real (tiny) model: a few seconds
def test_screenshot_opens_a_photo_and_renders_with_a_real_model(qapp, tmp_path):
    torch = pytest.importorskip("torch")
    from app.launch import main
    from ca2sis.checkpoint import save_model
    from ca2sis.config import preset
    from ca2sis.model import CA2SIS

    torch.manual_seed(0)
    weights = tmp_path / "tiny.safetensors"
    save_model(weights, CA2SIS(preset("tiny")), {"name": "tiny-test"})
    image, mask = face_pair(128)
    Image.fromarray(image).save(tmp_path / "face.png")
    Image.fromarray(mask).save(tmp_path / "face_mask.png")  # stored next to it: no parser needed
    out = tmp_path / "shot.png"
    code = main(["--screenshot", str(out), "--open", str(tmp_path / "face.png"), "--weights", str(weights),
                 "--device", "cpu", "--timeout", "120"])
    assert code == 0 and out.exists()


def test_a_missing_photo_fails_the_smoke_test_but_still_writes_the_screenshot(qapp, tmp_path):
    from app.launch import main

    out = tmp_path / "shot.png"
    assert main(["--screenshot", str(out), "--open", str(tmp_path / "nope.jpg"), "--timeout", "60"]) == 1
    assert out.exists()


def test_the_help_of_main_lists_the_editor_and_its_options(capsys):
    import main

    with pytest.raises(SystemExit) as stop:
        main.main(["--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    assert "opens the editor" in text and "--open FILE" in text and "--weights" in text
    assert all(command in text for command in ("render", "parse", "train", "evaluate", "models"))
