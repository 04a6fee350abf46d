"""With trained weights, a class's style acts mostly inside that class's region.

Uses the bundled demo model and a bundled sample portrait; a fresh model would not show this (its
cross-attention has not learned which pixels belong to which class).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from ca2sis.editor import Editor
from ca2sis.requests import RenderRequest, StyleSource

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "models" / "demo-128.safetensors"
SAMPLES = ROOT / "resources" / "samples"


def load_face(name: str) -> tuple[np.ndarray, np.ndarray]:
    image = np.asarray(Image.open(SAMPLES / f"{name}.png").convert("RGB"))
    return image, np.asarray(Image.open(SAMPLES / f"{name}_mask.png"))


@pytest.mark.parametrize(("cls", "name"), [(13, "hair"), (1, "skin")])
def test_a_style_swap_changes_the_image_mostly_inside_that_class(cls: int, name: str) -> None:
    if not DEMO.is_file() or not (SAMPLES / "astronaut_mask.png").is_file():
        pytest.skip("needs the bundled demo model and sample portraits")
    editor = Editor.load(DEMO, device="cpu", precision="fp32")
    own = editor.add_face(*load_face("astronaut"))
    reference = editor.add_face(*load_face("generated-1"))
    layout_mask = load_face("astronaut")[1]
    layout = editor.add_mask(layout_mask)
    before = editor.render(RenderRequest.build(layout, own)).image.astype(float)
    after = editor.render(RenderRequest.build(layout, own, {cls: StyleSource("reference", reference)})).image
    change = np.abs(after.astype(float) - before).sum(-1)
    small = np.asarray(Image.fromarray(layout_mask).resize(change.shape[::-1], Image.Resampling.NEAREST))
    region = ndimage.binary_dilation(small == cls, iterations=3)  # edges blend into neighbours
    inside = change[region].sum() / change.sum()
    assert change.mean() > 1, f"swapping the {name} style changed nothing"
    assert inside > 0.5 and inside > 1.5 * region.mean(), (
        f"{inside:.0%} of the change is inside the {name} region, which covers {region.mean():.0%} of the image"
    )
