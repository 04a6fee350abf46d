"""With the bundled model, a fitted sample portrait still edits: a hair-style swap stays in the hair and
keeps most of its strength, and a hair-shape interpolation still moves the outline (criteria in
:mod:`ca2sis.fit.editability`, against the unfitted model on the same edits)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ca2sis.editor import Editor
from ca2sis.fit.editability import edit_scores, verdict

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "models" / "demo-128.safetensors"
SAMPLES = ROOT / "resources" / "samples"
HAIR = 13


def load_face(name: str) -> tuple[np.ndarray, np.ndarray]:
    image = np.asarray(Image.open(SAMPLES / f"{name}.png").convert("RGB"))
    return image, np.asarray(Image.open(SAMPLES / f"{name}_mask.png"))


@pytest.mark.slow
def test_a_fitted_sample_portrait_still_takes_hair_style_and_shape_edits() -> None:
    if not DEMO.is_file() or not (SAMPLES / "astronaut_mask.png").is_file():
        pytest.skip("needs the bundled demo model and sample portraits")
    editor = Editor.load(DEMO, device="cpu")
    face = editor.add_face(*load_face("astronaut"))
    reference = editor.add_face(*load_face("generated-1"))
    result = editor.fit(face)
    assert result.psnr_after > result.psnr_before + 3, (result.psnr_before, result.psnr_after)
    unfitted = edit_scores(editor, face, reference, HAIR, None)
    fitted = edit_scores(editor, face, reference, HAIR, result.key)
    passed = verdict(fitted, unfitted)
    assert all(passed.values()), (passed, fitted, unfitted)
