"""The editor on the device renders what the CPU renders in fp32, and caches its encodings there."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ca2sis.editor import Editor
from ca2sis.requests import RenderRequest, StyleSource

from .conftest import DEMO, load_face, named_model, psnr, require_precision

pytestmark = pytest.mark.cuda

# Least PSNR of the device's rendering against the CPU's fp32 rendering, and largest relative error of
# the style codes. fp32 is not bit-exact on CUDA: cuDNN convolutions run in TF32 by default.
BOUNDS = {"fp32": (40.0, 0.01), "fp16": (34.0, 0.03), "bf16": (30.0, 0.06)}


@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16"])
@pytest.mark.parametrize("model_name", ["demo-128", "celebamask-256"])
def test_the_device_renders_what_the_cpu_renders_in_fp32(device: torch.device, model_name: str,
                                                         precision: str) -> None:
    require_precision(device, precision)
    if device.type == "cpu" and model_name != "demo-128":
        pytest.skip("the full-size model on the CPU is bench/inference.py's to time, not a device check")
    image, mask = load_face("astronaut")
    reference = Editor(named_model(model_name), device="cpu", precision="fp32")
    editor = Editor(named_model(model_name), device=str(device), precision=precision)
    assert editor.device.type == device.type and editor.precision == precision
    expected_styles, styles = reference.encode_style(image, mask), editor.encode_style(image, mask)
    expected, rendered = reference.reconstruct(image, mask), editor.reconstruct(image, mask)
    min_psnr, max_style_error = BOUNDS[precision]
    style_error = float((styles - expected_styles).norm() / expected_styles.norm())
    assert style_error <= max_style_error, f"{precision} style codes are {style_error:.2%} off the CPU's fp32"
    quality = psnr(rendered, expected)
    assert quality >= min_psnr, (
        f"{model_name} in {precision} on {device}: {quality:.1f} dB against the CPU in fp32 (wanted ≥ {min_psnr}); "
        f"max |Δ| {np.abs(rendered.astype(int) - expected).max()} levels"
    )


def test_the_editor_keeps_its_encodings_on_the_device_and_a_slider_move_runs_the_generator_alone(
    device: torch.device,
) -> None:
    if not DEMO.is_file():
        pytest.skip(f"needs the bundled demo model {DEMO}")
    face, other = load_face("astronaut"), load_face("generated-1")
    editor = Editor.load(DEMO, device=str(device))

    def calls() -> tuple[int, int, int]:
        return editor.calls["style_encoder"], editor.calls["mask_embedder"], editor.calls["generator"]

    own, ref = editor.add_face(*face), editor.add_face(*other)
    editor.render(RenderRequest.build(own, own))
    editor.render(RenderRequest.build(own, own, {13: StyleSource("reference", ref, 0.3)}))
    assert calls() == (2, 1, 2)  # both faces encoded once, one layout embedded once
    assert editor._styles.find(own).device.type == device.type
    assert editor._shapes.find(own).device.type == device.type
    moved = RenderRequest.build(own, own, {13: StyleSource("reference", ref, 0.7)})
    cached = editor.render(moved).image
    assert calls() == (2, 1, 3)
    fresh = Editor.load(DEMO, device=str(device))
    fresh.add_face(*face), fresh.add_face(*other)
    uncached = fresh.render(moved).image
    assert np.abs(cached.astype(int) - uncached).max() <= 1  # the cache changes nothing but the time


def test_on_cuda_the_generator_renders_whole_maps_and_on_the_cpu_in_slices(device: torch.device) -> None:
    editor = Editor(named_model("tiny"), device=str(device))
    chunks = {stage.attn.block.token_chunk for stage in editor.model.generator.stages}
    assert chunks == ({0} if device.type == "cuda" else {2048})


def test_fit_to_photo_on_the_device_brings_the_render_closer_and_leaves_other_faces_alone(
    device: torch.device,
) -> None:
    if not DEMO.is_file():
        pytest.skip(f"needs the bundled demo model {DEMO}")
    (image, mask), other = load_face("astronaut"), load_face("generated-1")
    editor = Editor.load(DEMO, device=str(device))
    key, other_key = editor.add_face(image, mask), editor.add_face(*other)
    target = editor._face(key)[0]  # the photo at the model's resolution
    before = psnr(editor.render(RenderRequest.build(key, key)).image, target)
    other_before = editor.render(RenderRequest.build(other_key, other_key)).image
    fitted = editor.fit(key, steps=30)
    after = psnr(editor.render(RenderRequest.build(key, key, fit=fitted.key)).image, target)
    assert after > before + 1.0, f"fitting moved the reconstruction from {before:.1f} dB to {after:.1f} dB"
    other_after = editor.render(RenderRequest.build(other_key, other_key)).image
    assert np.abs(other_after.astype(int) - other_before).max() <= 1
