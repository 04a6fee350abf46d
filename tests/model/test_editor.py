"""The inference facade: the paper's editing identities, caching, and clear errors on bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ca2sis.editor import Editor
from ca2sis.requests import RenderRequest, ShapeSource, StyleSource
from tests.model.conftest import face_like_mask, photo_like


@pytest.fixture
def editor(tiny_model) -> Editor:
    return Editor(tiny_model, device="cpu", precision="fp32")


@pytest.fixture
def face():
    return photo_like(32, seed=1), face_like_mask(32)


@pytest.fixture
def reference():
    mask = face_like_mask(32)
    mask[:10] = 13  # more hair
    return photo_like(32, seed=2), mask


def test_reconstruction_is_an_image_at_the_model_resolution(editor: Editor, face) -> None:
    out = editor.reconstruct(*face)
    assert out.shape == (32, 32, 3) and out.dtype == np.uint8


def test_inputs_of_another_size_are_resized_to_the_model_resolution(editor: Editor) -> None:
    image, mask = photo_like(64), face_like_mask(64)
    assert editor.reconstruct(image, mask).shape == (32, 32, 3)


def test_swapping_a_class_style_with_itself_changes_nothing(editor: Editor, face) -> None:
    styles, shapes = editor.encode_style(*face), editor.embed_mask(face[1])
    swapped = editor.swap_style(styles, styles, [13, 1])
    assert torch.equal(swapped, styles)
    np.testing.assert_array_equal(editor.generate(shapes, swapped), editor.generate(shapes, styles))


def test_style_swap_replaces_only_the_chosen_rows(editor: Editor, face, reference) -> None:
    own, ref = editor.encode_style(*face), editor.encode_style(*reference)
    swapped = editor.swap_style(own, ref, [13])
    assert torch.equal(swapped[13], ref[13])
    assert torch.equal(swapped[:13], own[:13]) and torch.equal(swapped[14:], own[14:])
    assert torch.equal(editor.transfer_styles(own, ref), ref)


@pytest.mark.parametrize("cls", [1, 13])
def test_style_blend_endpoints_reproduce_own_and_reference(editor: Editor, face, reference, cls: int) -> None:
    own, ref = editor.encode_style(*face), editor.encode_style(*reference)
    shapes = editor.embed_mask(face[1])
    assert torch.equal(editor.blend_style(own, ref, cls, 0.0), own)
    assert torch.equal(editor.blend_style(own, ref, cls, 1.0), editor.swap_style(own, ref, [cls]))
    np.testing.assert_array_equal(editor.generate(shapes, editor.blend_style(own, ref, cls, 0.0)),
                                  editor.generate(shapes, own))


def test_shape_interpolation_endpoints_reproduce_own_and_reference(editor: Editor, face, reference) -> None:
    own, ref = editor.embed_mask(face[1]), editor.embed_mask(reference[1])
    assert torch.equal(editor.interpolate_shape(own, ref, 13, 0.0), own)
    moved = editor.interpolate_shape(own, ref, 13, 1.0)
    assert torch.equal(moved[12], ref[12])  # hair (13) is row 12: the background has no shape code
    assert torch.equal(moved, editor.transfer_shape(own, ref, 13))
    with pytest.raises(ValueError, match="background"):
        editor.transfer_shape(own, ref, 0)


def test_render_with_no_edits_is_the_reconstruction(editor: Editor, face) -> None:
    key = editor.add_face(*face)
    mask_key = editor.add_mask(face[1])
    result = editor.render(RenderRequest.build(mask_key, key))
    np.testing.assert_array_equal(result.image, editor.reconstruct(*face))


def test_render_blend_endpoints_match_own_and_reference(editor: Editor, face, reference) -> None:
    key, ref_key, mask_key = editor.add_face(*face), editor.add_face(*reference), editor.add_mask(face[1])
    base = editor.render(RenderRequest.build(mask_key, key)).image
    at0 = editor.render(RenderRequest.build(mask_key, key, {13: StyleSource("reference", ref_key, alpha=0.0)}))
    np.testing.assert_array_equal(at0.image, base)
    at1 = editor.render(RenderRequest.build(mask_key, key, {13: StyleSource("reference", ref_key, alpha=1.0)}))
    styles = editor.swap_style(editor.encode_style(*face), editor.encode_style(*reference), [13])
    np.testing.assert_array_equal(at1.image, editor.generate(editor.embed_mask(face[1]), styles))
    shape0 = editor.render(RenderRequest.build(mask_key, key, shapes={13: ShapeSource(ref_key, 0.0)}))
    np.testing.assert_array_equal(shape0.image, base)


def test_slider_edits_do_not_rerun_the_encoders(editor: Editor, face, reference) -> None:
    key, ref_key, mask_key = editor.add_face(*face), editor.add_face(*reference), editor.add_mask(face[1])
    editor.render(RenderRequest.build(mask_key, key))
    before = dict(editor.calls)
    for alpha in (0.2, 0.4, 0.6):
        editor.render(RenderRequest.build(mask_key, key, {13: StyleSource("reference", ref_key, alpha=alpha)},
                                          {4: ShapeSource(ref_key, alpha)}))
    assert editor.calls["generator"] == before["generator"] + 3
    assert editor.calls["style_encoder"] == before["style_encoder"] + 1  # the reference, once
    assert editor.calls["mask_embedder"] == before["mask_embedder"] + 1  # the reference's mask, once


def test_random_style_for_one_class_keeps_the_others(editor: Editor, face) -> None:
    own = editor.encode_style(*face)
    rnd = editor.random_styles(seed=3)
    assert torch.equal(rnd, editor.random_styles(seed=3))
    assert not torch.equal(rnd, editor.random_styles(seed=4))
    mixed = editor.swap_style(own, rnd, [13])
    assert torch.equal(mixed[:13], own[:13]) and torch.equal(mixed[13], rnd[13])
    zeroed = editor.random_styles(seed=3, mask=face[1])
    assert zeroed[3].abs().sum() == 0  # glasses are absent from the mask


def test_painting_from_scratch_uses_random_styles(editor: Editor, face) -> None:
    mask_key = editor.add_mask(face[1])
    a = editor.render(RenderRequest.build(mask_key, None, seed=1)).image
    b = editor.render(RenderRequest.build(mask_key, None, seed=2)).image
    assert a.shape == (32, 32, 3) and not np.array_equal(a, b)


def test_attention_map_of_a_class_is_returned_on_request(editor: Editor, face) -> None:
    key, mask_key = editor.add_face(*face), editor.add_mask(face[1])
    result = editor.render(RenderRequest.build(mask_key, key, attention_class=13))
    assert result.attention.shape == (32, 32)
    assert result.attention.min() >= 0 and result.attention.max() <= 1


@pytest.mark.parametrize(
    ("image", "mask", "error", "message"),
    [
        (photo_like(32), face_like_mask(16), ValueError, "32×32 but its mask is 16×16"),
        (photo_like(32), face_like_mask(32) + 19, ValueError, "class id"),
        (photo_like(32).astype(np.float32), face_like_mask(32), TypeError, "uint8"),
        (photo_like(32)[..., 0], face_like_mask(32), ValueError, "grayscale"),
        (np.dstack([photo_like(32), photo_like(32)[..., :1]]), face_like_mask(32), ValueError, "RGBA"),
        (photo_like(32), face_like_mask(32).astype(np.float32), TypeError, "integer class ids"),
    ],
)
def test_bad_inputs_raise_clear_errors(editor: Editor, image, mask, error, message) -> None:
    with pytest.raises(error, match=message):
        editor.encode_style(image, mask)


def test_wrong_codes_are_refused(editor: Editor, face) -> None:
    styles = editor.encode_style(*face)
    with pytest.raises(ValueError, match="shape codes must be 18×16"):
        editor.generate(torch.zeros(3, 16), styles)
    with pytest.raises(ValueError, match="outside"):
        editor.swap_style(styles, styles, [19])


def test_unknown_keys_name_the_call_that_is_missing(editor: Editor) -> None:
    with pytest.raises(KeyError, match="add_mask"):
        editor.render(RenderRequest.build("nope", None))


def test_reduced_precision_on_cpu_stays_close_to_fp32(tiny_model, face) -> None:
    ref = Editor(tiny_model, device="cpu", precision="fp32").reconstruct(*face).astype(int)
    low = Editor(tiny_model, device="cpu", precision="bf16").reconstruct(*face).astype(int)
    assert np.abs(ref - low).mean() < 6
    with pytest.raises(ValueError, match="fp16 is not supported on the CPU"):
        Editor(tiny_model, device="cpu", precision="fp16")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16"])
def test_cuda_renders_close_to_the_cpu(tiny_model, face, precision: str) -> None:
    import copy

    ref = Editor(copy.deepcopy(tiny_model), device="cpu", precision="fp32").reconstruct(*face).astype(int)
    gpu = Editor(tiny_model, device="cuda", precision=precision)
    assert gpu.device_label.startswith("CUDA")
    out = gpu.reconstruct(*face).astype(int)
    assert np.abs(ref - out).mean() < (1 if precision == "fp32" else 6)


def test_a_render_stops_between_layers_once_it_is_cancelled(editor: Editor, face) -> None:
    from ca2sis.requests import RenderCancelled

    mask_key, own_key = editor.add_mask(face[1]), editor.add_face(*face)
    asked = []

    def cancelled() -> bool:
        asked.append(True)
        return len(asked) > 3  # the caller moved on while the generator was half-way

    with pytest.raises(RenderCancelled):
        editor.render(RenderRequest(mask_key, own_key), cancelled=cancelled)
    assert len(asked) == 4
    # the next render is not affected, and a caller that never cancels gets its image
    assert editor.render(RenderRequest(mask_key, own_key), cancelled=lambda: False).image.shape == (32, 32, 3)
    assert editor.render(RenderRequest(mask_key, own_key)).image.shape == (32, 32, 3)


def test_render_timings_split_the_generator_from_the_conversion_to_an_image(editor: Editor, face) -> None:
    result = editor.render(RenderRequest(editor.add_mask(face[1]), editor.add_face(*face)))
    assert set(result.timings) == {"encode", "generate", "to_image"}
    assert result.seconds >= result.timings["generate"] + result.timings["to_image"]


def test_interactive_use_leaves_one_core_to_the_gui_thread() -> None:
    from ca2sis.device import use_interactive_threads

    before = torch.get_num_threads()
    try:
        assert use_interactive_threads(cores=2) == 1 and torch.get_num_threads() == 1
        assert use_interactive_threads(cores=8) == 7 and torch.get_num_threads() == 7
        assert use_interactive_threads(cores=1) == 1
    finally:
        torch.set_num_threads(before)


def test_an_alpha_slider_on_a_random_style_does_not_rerun_the_mapping_network(editor: Editor, face) -> None:
    key, mask_key = editor.add_face(*face), editor.add_mask(face[1])
    renders = [editor.render(RenderRequest.build(mask_key, key, {13: StyleSource("random", seed=5, alpha=a)}))
               for a in (0.3, 0.6, 0.9)]
    assert editor.calls["mapping"] == 1 and editor.calls["generator"] == 3
    assert not np.array_equal(renders[0].image, renders[2].image)  # the slider still moves the style
    editor.render(RenderRequest.build(mask_key, None, seed=2))  # random styles for every class: one more draw
    editor.render(RenderRequest.build(mask_key, None, seed=2))
    assert editor.calls["mapping"] == 2
