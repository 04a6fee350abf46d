"""Fit to photo in the editor: the document's undo, the project file, the bridge and the window."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from PySide6.QtCore import Qt

from app import project_io
from app.document import Document
from app.fit_record import FitRecord
from app.project_io import ProjectError, from_bytes, load_project, save_project, to_bytes
from app.render_bridge import RenderBridge, plan_for
from ca2sis.fit import FitConfig, FitState
from tests.app.fakes import face_pair


def make_record(seed: int = 0, model: str = "model-a") -> FitRecord:
    """A fit's bytes made directly (no model needed): what the project file and the undo history keep."""
    rng = np.random.default_rng(seed)
    adapters = {"to_rgb.down": rng.normal(size=(3, 8)).astype(np.float32),
                "to_rgb.up": rng.normal(size=(3, 3)).astype(np.float32),
                "to_rgb.bias": rng.normal(size=3).astype(np.float32)}
    state = FitState("face-key", model, "tiny", rng.normal(size=(19, 24)).astype(np.float32), adapters,
                     FitConfig(steps=3), {"psnr_before": 12.0, "psnr_after": 20.5})
    return FitRecord.from_bytes(state.to_bytes())


def fitted_doc() -> Document:
    image, mask = face_pair()
    doc = Document()
    doc.load_face(mask, image, "face")
    doc.set_fit(make_record())
    return doc


# ---- the document ----------------------------------------------------------------------------------
def test_a_fit_is_one_undo_step_and_remove_fit_another() -> None:
    doc = fitted_doc()
    record = doc.fit
    assert doc.history.undo_label == "Fit to photo" and doc.dirty
    doc.set_fit(None)
    assert doc.fit is None and doc.history.undo_label == "Remove fit"
    doc.undo()
    assert doc.fit == record
    doc.undo()
    assert doc.fit is None
    doc.redo()
    assert doc.fit == record


def test_a_new_face_starts_unfitted_and_a_loaded_project_brings_its_fit() -> None:
    doc = fitted_doc()
    other = Document()
    other.replace_with(doc)
    assert other.fit == doc.fit
    image, mask = face_pair()
    doc.load_face(mask, image[::-1].copy(), "another")
    assert doc.fit is None


def test_the_plan_names_the_fit_so_fitted_and_unfitted_renders_never_compare_equal() -> None:
    doc = fitted_doc()
    fitted = plan_for(doc)
    assert fitted.request.fit == doc.fit.key and fitted.fit is doc.fit
    doc.set_fit(None)
    assert plan_for(doc).request.fit is None and plan_for(doc) != fitted


# ---- the project file ------------------------------------------------------------------------------
def test_the_fit_round_trips_through_a_project_file(tmp_path) -> None:
    doc = fitted_doc()
    path = save_project(doc, tmp_path / "fitted.ca2sis")
    with zipfile.ZipFile(path) as zf:
        assert zf.read("fit.safetensors") == doc.fit.data
    back = load_project(path)
    assert back.fit == doc.fit and back.fit.data == doc.fit.data and back.fit.summary == doc.fit.summary
    doc.set_fit(None)
    with zipfile.ZipFile(save_project(doc, tmp_path / "plain.ca2sis")) as zf:
        assert "fit.safetensors" not in zf.namelist()


def _rewrite(data: bytes, fit: bytes | None = None, meta_fit: object = "keep", drop_face: bool = False) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name in src.namelist():
            content = src.read(name)
            if name == "project.json" and meta_fit != "keep":
                meta = json.loads(content)
                meta["fit"] = meta_fit
                content = json.dumps(meta).encode()
            if name == "fit.safetensors" and fit is not None:
                content = fit
            if name == "face.png" and drop_face:
                continue
            zf.writestr(name, content)
    return out.getvalue()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"fit": b"\x10\x00\x00\x00\x00\x00\x00\x00{not json"}, "fit is damaged"),
        ({"fit": make_record(seed=1).data}, "does not match the fit recorded"),
        ({"meta_fit": {"key": 5}}, "fit entry is damaged"),
        ({"drop_face": True}, "no face photo"),
    ],
)
def test_a_damaged_fit_member_refuses_the_project_with_a_reason(change, message) -> None:
    data = _rewrite(to_bytes(fitted_doc()), **change)
    with pytest.raises(ProjectError, match=message):
        from_bytes(data)


def test_a_fit_member_over_the_size_cap_is_refused_before_it_is_read(monkeypatch) -> None:
    data = to_bytes(fitted_doc())
    monkeypatch.setattr(project_io, "FIT_MAX_BYTES", 100)
    with pytest.raises(ProjectError, match="more than"):
        from_bytes(data)


def test_a_named_fit_without_its_member_is_refused() -> None:
    doc = fitted_doc()
    src = zipfile.ZipFile(io.BytesIO(to_bytes(doc)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name in src.namelist():
            if name != "fit.safetensors":
                zf.writestr(name, src.read(name))
    with pytest.raises(ProjectError, match="no fit.safetensors"):
        from_bytes(out.getvalue())


# ---- the bridge with a real model ------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    from ca2sis.checkpoint import save_model
    from tests.fit.conftest import tiny

    path = tmp_path_factory.mktemp("tiny") / "tiny.safetensors"
    save_model(path, tiny())
    return path


def real_editor(path, seed_model: int | None = None):
    from ca2sis.editor import Editor
    from tests.fit.conftest import tiny

    if seed_model is not None:
        return Editor(tiny(seed_model), device="cpu", precision="fp32")
    return Editor.load(path, device="cpu", precision="fp32")


def test_a_fit_of_another_model_renders_unfitted_and_says_why(tiny_weights) -> None:
    from tests.fit.conftest import QUICK

    image, mask = face_pair(32)
    doc = Document()
    doc.load_face(mask, image, "face")
    bridge = RenderBridge(real_editor(tiny_weights))
    doc.set_fit(bridge.fit(plan_for(doc), steps=QUICK.steps))
    fitted = bridge.render(plan_for(doc))
    assert not fitted.warnings
    stranger = RenderBridge(real_editor(tiny_weights, seed_model=7))
    result = stranger.render(plan_for(doc))
    assert result.warnings and "made with the model" in result.warnings[0]
    doc.set_fit(None)
    np.testing.assert_array_equal(result.image, stranger.render(plan_for(doc)).image)


# ---- the window --------------------------------------------------------------------------------------
@pytest.fixture
def fitting_window(window, tiny_weights, qtbot):
    window.interactive = False  # dialogs take their default answer
    image, mask = face_pair(32)
    window.doc.load_face(mask, image, "face")
    window.set_editor(real_editor(tiny_weights))
    window.worker.wait_until_idle(30)
    return window


def test_fit_to_photo_runs_on_the_worker_with_progress_and_is_undoable(fitting_window, qtbot, tmp_path) -> None:
    win = fitting_window
    ctl = win.fitting
    ctl.steps = 8
    seen: list[int] = []
    ctl.progress.valueChanged.connect(seen.append)
    assert ctl.fit_action.isEnabled() and not ctl.remove_action.isEnabled()
    assert ctl.start()
    assert ctl.progress.isVisible() and ctl.cancel_button.isVisible() and not ctl.fit_action.isEnabled()
    qtbot.waitUntil(lambda: win.doc.fit is not None, timeout=60000)
    assert seen and max(seen) > 0  # the GUI thread showed progress while the worker fitted
    assert not ctl.progress.isVisible() and "Fitted" in ctl.label.text() and ctl.remove_action.isEnabled()
    win.worker.wait_until_idle(30)
    fitted_image = win.last_result.image.copy()
    assert plan_for(win.doc).request.fit == win.doc.fit.key

    win.doc.undo()  # back to the base model, without fitting again
    assert win.doc.fit is None and not ctl.label.isVisible()
    win.worker.wait_until_idle(30)
    assert np.abs(win.last_result.image.astype(int) - fitted_image).mean() > 1
    win.doc.redo()
    win.worker.wait_until_idle(30)
    np.testing.assert_array_equal(win.last_result.image, fitted_image)

    path = tmp_path / "fitted.ca2sis"
    assert win.files.save(path)
    ctl.remove()
    assert win.doc.fit is None
    assert win.files.open_project(path)  # restored on open, and rendered with it
    win.worker.wait_until_idle(30)
    assert win.doc.fit is not None and "Fitted" in ctl.label.text()
    np.testing.assert_array_equal(win.last_result.image, fitted_image)


def test_cancel_stops_the_fit_and_leaves_the_face_unfitted(fitting_window, qtbot) -> None:
    win = fitting_window
    ctl = win.fitting
    ctl.steps = 100000
    ctl.start()
    qtbot.waitUntil(lambda: ctl.progress.toolTip() not in ("", "preparing"), timeout=60000)  # steps are running
    from app.mask_ops import rect_footprint

    assert win.doc.paint(rect_footprint(win.doc.mask.shape, (0, 0), (8, 8)), 13) is not None  # edits go on
    qtbot.mouseClick(ctl.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not ctl.running, timeout=60000)
    assert win.doc.fit is None and ctl.last_error is None
    assert "cancelled" in win.statusBar().currentMessage()
    assert win.doc.history.undo_label != "Fit to photo"


def test_fit_to_photo_without_a_photo_or_a_model_says_what_is_missing(window) -> None:
    assert not window.fitting.start()
    assert "no model" in window.errors[-1]
