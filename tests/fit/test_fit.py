"""Fit to photo in the library: what a fit changes, what it must never change, and its stored form."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ca2sis.editor import Editor
from ca2sis.fit import FitCancelled, FitConfig, FitFileError, FitMismatch, FitState
from ca2sis.requests import RenderCancelled, RenderRequest, ShapeSource, StyleSource
from tests.fit.conftest import QUICK, other_face, quick, tiny
from tests.model.conftest import face_like_mask, photo_like


def test_a_fit_brings_the_reconstruction_closer_to_the_photo(fitted) -> None:
    editor, key, result = fitted
    assert result.psnr_after > result.psnr_before + 1.0, (result.psnr_before, result.psnr_after)
    assert result.key == result.state.key and result.face_key == key and result.steps == QUICK.steps
    assert result.adapter_bytes == sum(a.nbytes for a in result.state.adapters.values()) > 0


def test_the_fitted_face_renders_differently_only_when_the_request_names_the_fit(fitted) -> None:
    editor, key, result = fitted
    layout = editor.add_mask(face_like_mask(32))
    plain, with_fit = RenderRequest.build(layout, key), RenderRequest.build(layout, key, fit=result.key)
    assert plain != with_fit  # a render cache keyed by the request cannot confuse the two
    base = editor.render(plain).image
    tuned = editor.render(with_fit).image
    assert np.abs(base.astype(int) - tuned).mean() > 1
    np.testing.assert_array_equal(editor.render(plain).image, base)


def test_a_fitted_render_stops_when_its_caller_cancels_it(fitted) -> None:
    editor, key, result = fitted
    layout = editor.add_mask(face_like_mask(32))
    asked = []

    def cancelled() -> bool:
        asked.append(1)
        return len(asked) > 1  # the first layer runs, the second is refused

    with pytest.raises(RenderCancelled):
        editor.render(RenderRequest.build(layout, key, fit=result.key), cancelled=cancelled)
    assert len(asked) == 2
    assert editor.render(RenderRequest.build(layout, key, fit=result.key)).image.shape == (32, 32, 3)


def test_a_fit_changes_neither_the_loaded_model_nor_other_faces(weights) -> None:
    editor = Editor.load(weights, device="cpu", precision="fp32")
    before_state = {k: v.clone() for k, v in editor.model.state_dict().items()}
    face = editor.add_face(photo_like(32, seed=1), face_like_mask(32))
    other = editor.add_face(*other_face())
    layout = editor.add_mask(face_like_mask(32))
    requests = [RenderRequest.build(layout, other), RenderRequest.build(layout, None, seed=3),
                RenderRequest.build(layout, other, {13: StyleSource("reference", face)}),
                RenderRequest.build(layout, face)]
    before = [editor.render(r).image for r in requests]
    result = editor.fit(face, QUICK)
    editor.render(RenderRequest.build(layout, face, fit=result.key, attention_class=13))
    for r, image in zip(requests, before, strict=True):
        np.testing.assert_array_equal(editor.render(r).image, image)
    for name, value in editor.model.state_dict().items():
        assert torch.equal(value, before_state[name]), name


def test_every_edit_of_a_fitted_face_goes_through_its_fit(fitted) -> None:
    editor, key, result = fitted
    ref = editor.add_face(*other_face())
    layout = editor.add_mask(face_like_mask(32))
    edits = [
        {"styles": {13: StyleSource("reference", ref, alpha=0.5)}},
        {"styles": {1: StyleSource("random", seed=4)}},
        {"shapes": {13: ShapeSource(ref, 0.7)}},
        {"shape_all": ShapeSource(ref, 0.3)},
    ]
    for edit in edits:
        base = editor.render(RenderRequest.build(layout, key, **edit)).image
        tuned = editor.render(RenderRequest.build(layout, key, fit=result.key, **edit)).image
        assert np.abs(base.astype(int) - tuned).mean() > 1, edit
    shown = editor.render(RenderRequest.build(layout, key, fit=result.key, attention_class=13))
    assert shown.attention is not None and shown.attention.shape == (32, 32)


def test_the_same_seed_gives_the_same_fit_and_another_seed_another(weights) -> None:
    editor = Editor.load(weights, device="cpu", precision="fp32")
    key = editor.add_face(photo_like(32, seed=1), face_like_mask(32))
    a, b = editor.fit(key, quick(steps=4)), editor.fit(key, quick(steps=4))
    c = editor.fit(key, quick(steps=4, seed=1))
    assert a.key == b.key
    np.testing.assert_array_equal(a.state.styles, b.state.styles)
    for name, value in a.state.adapters.items():
        np.testing.assert_array_equal(value, b.state.adapters[name])
    assert c.key != a.key


def test_progress_is_reported_every_step_up_to_the_end(weights) -> None:
    editor = Editor.load(weights, device="cpu", precision="fp32")
    key = editor.add_face(photo_like(32, seed=1), face_like_mask(32))
    seen: list[tuple[str, float]] = []
    editor.fit(key, quick(steps=6), progress=lambda stage, f: seen.append((stage, f)))
    fractions = [f for _, f in seen]
    assert len(seen) == 6 and fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert seen[0][0].startswith("style codes") and seen[-1][0].startswith("generator")


def test_a_cancelled_fit_leaves_the_face_unfitted(weights) -> None:
    editor = Editor.load(weights, device="cpu", precision="fp32")
    key = editor.add_face(photo_like(32, seed=1), face_like_mask(32))
    steps: list[float] = []
    with pytest.raises(FitCancelled):
        editor.fit(key, quick(steps=50), progress=lambda s, f: steps.append(f), cancel=lambda: len(steps) >= 8)
    assert len(steps) == 8
    assert not editor._fits  # nothing registered
    layout = editor.add_mask(face_like_mask(32))
    np.testing.assert_array_equal(editor.render(RenderRequest.build(layout, key)).image,
                                  editor.reconstruct(photo_like(32, seed=1), face_like_mask(32)))


def test_a_fit_round_trips_through_bytes_into_another_editor_of_the_same_model(fitted, weights) -> None:
    editor, key, result = fitted
    data = editor.export_fit(result.key)
    other = Editor.load(weights, device="cpu", precision="fp32")
    face = other.add_face(photo_like(32, seed=1), face_like_mask(32))
    assert other.add_fit(data) == result.key
    layout_a, layout_b = editor.add_mask(face_like_mask(32)), other.add_mask(face_like_mask(32))
    np.testing.assert_array_equal(other.render(RenderRequest.build(layout_b, face, fit=result.key)).image,
                                  editor.render(RenderRequest.build(layout_a, key, fit=result.key)).image)
    assert FitState.from_bytes(data).metrics["psnr_after"] == pytest.approx(result.psnr_after)


def test_remove_fit_forgets_it(weights) -> None:
    editor = Editor.load(weights, device="cpu", precision="fp32")
    key = editor.add_face(photo_like(32, seed=1), face_like_mask(32))
    result = editor.fit(key, quick(steps=2))
    editor.remove_fit(key)
    layout = editor.add_mask(face_like_mask(32))
    with pytest.raises(KeyError, match="no fit registered"):
        editor.render(RenderRequest.build(layout, key, fit=result.key))


def test_a_fit_of_another_model_is_refused(fitted) -> None:
    editor, key, result = fitted
    stranger = Editor(tiny(seed=5), device="cpu", precision="fp32")
    with pytest.raises(FitMismatch, match="made with the model"):
        stranger.add_fit(editor.export_fit(result.key))


def test_a_fit_names_its_face(fitted) -> None:
    editor, key, result = fitted
    other = editor.add_face(*other_face())
    layout = editor.add_mask(face_like_mask(32))
    with pytest.raises(ValueError, match="another face"):
        editor.render(RenderRequest.build(layout, other, fit=result.key))


def test_bad_requests_get_clear_errors(fitted) -> None:
    editor, _, _ = fitted
    with pytest.raises(KeyError, match="add_face"):
        editor.fit("not-a-face")
    key = editor.add_face(photo_like(32, seed=1), face_like_mask(32))
    with pytest.raises(ValueError, match="at least 1"):
        editor.fit(key, steps=-1)
    with pytest.raises(ValueError, match="at least 1"):
        FitConfig(steps=0)
    with pytest.raises(ValueError, match="no generator layer"):
        editor.fit(key, quick(layers=("nothing.*",)))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: d[:40], "header is damaged|truncated"),
        (lambda d: b"\x00" * 8 + d[8:], "not a CA2SIS fit|damaged"),
        (lambda d: d[:-100], "damaged"),
        (lambda d: b"", "empty"),
        (lambda d: d.replace(b"ca2sis-fit/1", b"ca2sis-fit/9"), "not a CA2SIS fit"),
    ],
)
def test_damaged_fit_bytes_are_refused_with_a_reason(fitted, damage, message) -> None:
    editor, _, result = fitted
    with pytest.raises(FitFileError, match=message):
        FitState.from_bytes(damage(editor.export_fit(result.key)))


def test_oversized_and_non_finite_fits_are_refused(fitted) -> None:
    editor, _, result = fitted
    data = editor.export_fit(result.key)
    with pytest.raises(FitFileError, match="MB allowed"):
        FitState.from_bytes(data, max_bytes=len(data) - 1)
    state = result.state
    bad = dict(state.adapters)
    name = next(iter(bad))
    bad[name] = bad[name].copy()
    bad[name].flat[0] = np.nan
    broken = FitState(state.face_key, state.model, state.model_name, state.styles, bad, state.config)
    with pytest.raises(FitFileError, match="non-finite"):
        FitState.from_bytes(broken.to_bytes())


def test_adapters_that_do_not_fit_the_generator_are_refused(fitted) -> None:
    editor, _, result = fitted
    state = result.state
    name = next(n for n in state.adapters if n.endswith(".up"))
    bad = dict(state.adapters)
    bad[name] = np.zeros((bad[name].shape[0] + 1, bad[name].shape[1]), np.float32)
    wrong = FitState(state.face_key, state.model, state.model_name, state.styles, bad, state.config)
    with pytest.raises(ValueError, match="does not fit"):
        editor.add_fit(wrong.to_bytes())


def test_a_bf16_editor_on_the_cpu_fits_in_fp32_and_renders_in_bf16(weights) -> None:
    editor = Editor.load(weights, device="cpu", precision="bf16")
    key = editor.add_face(photo_like(32, seed=1), face_like_mask(32))
    result = editor.fit(key, QUICK)
    assert result.psnr_after > result.psnr_before + 1.0
    assert all(a.dtype == np.float32 and np.isfinite(a).all() for a in result.state.adapters.values())
    assert next(editor._fitted_generator(result.key).parameters()).dtype == torch.bfloat16


def test_the_perceptual_loss_takes_part_when_asked(weights) -> None:
    editor = Editor.load(weights, device="cpu", precision="fp32")
    key = editor.add_face(photo_like(32, seed=1), face_like_mask(32))
    with_it = editor.fit(key, quick(steps=3, perceptual_weight=0.1))
    without = editor.fit(key, quick(steps=3))
    assert with_it.key != without.key and not with_it.notes


def test_the_attention_loss_and_a_pivot_free_fit_run(weights) -> None:
    editor = Editor.load(weights, device="cpu", precision="fp32")
    key = editor.add_face(photo_like(32, seed=1), face_like_mask(32))
    with_attention = editor.fit(key, quick(steps=4, attention_weight=1.0))
    stages: list[str] = []
    no_pivot = editor.fit(key, quick(steps=4, pivot_share=0.0), progress=lambda stage, f: stages.append(stage))
    assert with_attention.key != editor.fit(key, quick(steps=4)).key
    assert all(s.startswith("generator") for s in stages) and np.isfinite(no_pivot.psnr_after)


def test_fit_config_round_trips_and_splits_its_steps() -> None:
    cfg = FitConfig(steps=10, pivot_share=0.3, layers=("stages.*",))
    assert FitConfig.from_json(cfg.to_json()) == cfg
    assert (cfg.pivot_steps, cfg.tune_steps) == (3, 7)
    assert FitConfig(steps=1).tune_steps == 1
    with pytest.raises(ValueError, match="unknown fit configuration"):
        FitConfig.from_json('{"steps": 3, "speed": 9}')
    with pytest.raises(TypeError):
        FitConfig(steps=2.5)
