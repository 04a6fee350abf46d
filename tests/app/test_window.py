"""The main window with a fake model: references, styles, shapes, projects, exports."""

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QMessageBox

from app.canvas import REFERENCE_MIME
from app.document import ReferenceFace
from ca2sis.classes import CELEBAMASK_HQ
from ca2sis.requests import ShapeSource, StyleSource
from tests.app.fakes import FakeEditor, face_pair

pytestmark = pytest.mark.gui


def drop(widget, mime, pos=None):
    pos = pos or QPointF(widget.width() / 2, widget.height() / 2)
    event = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    widget.dropEvent(event)


def file_mime(path):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    return mime


def add_reference(doc):
    image, mask = face_pair()
    return doc.add_reference(ReferenceFace.make("ref", image[::-1].copy(), mask[::-1].copy()))


def test_without_a_model_the_first_run_panel_explains_what_to_do(window):
    assert window.right.currentWidget() is window.first_run
    text = window.first_run.text.text()
    assert "latest_net_G.pth" in text and "models add" in text and "train" in text


def test_dropping_a_reference_file_on_a_class_row_sets_that_class_style(loaded, reference_file, qtbot):
    doc = loaded.doc
    drop(loaded.style_panel.rows[13], file_mime(reference_file))
    qtbot.waitUntil(lambda: doc.style_of(13).kind == "reference", timeout=5000)
    ref = doc.references[doc.style_of(13).reference]
    assert ref.name == "ref.png" and ref.image.shape == (64, 64, 3)
    assert all(doc.style_of(c).kind == "own" for c in range(19) if c != 13)
    assert loaded.style_panel.rows[13].source.currentText() == "ref.png"  # the row shows it
    qtbot.waitUntil(lambda: any(s for s in loaded.editor.requests[-1].styles), timeout=3000)
    doc.undo()
    assert doc.style_of(13).kind == "own"


def test_dropping_a_gallery_face_on_the_canvas_styles_the_region_under_the_cursor(loaded):
    doc = loaded.doc
    ref = add_reference(doc)
    mime = QMimeData()
    mime.setData(REFERENCE_MIME, ref.key.encode())
    drop(loaded.canvas, mime, loaded.canvas.to_widget(32, 32))  # the middle of the face is skin
    assert doc.style_of(1) == StyleSource("reference", ref.key)


def test_a_slider_drag_is_one_undo_step(loaded):
    doc = loaded.doc
    doc.set_style(4, StyleSource("random", seed=5))
    slider = loaded.style_panel.rows[4].alpha
    steps = len(doc.history)
    slider.setSliderDown(True)
    for value in (90, 70, 40, 20):
        slider.setValue(value)
    slider.setSliderDown(False)
    assert doc.style_of(4).alpha == pytest.approx(0.2)
    assert len(doc.history) == steps + 1
    doc.undo()
    assert doc.style_of(4).alpha == 1.0


def test_presets_and_dice(loaded):
    doc, panel = loaded.doc, loaded.style_panel
    ref = add_reference(doc)
    panel.preset.setCurrentIndex(panel.preset.findData("makeup"))
    panel.preset_ref.setCurrentIndex(panel.preset_ref.findData(f"reference:{ref.key}"))
    panel.apply_preset()
    assert {c for c, s in doc.styles.items() if s.reference == ref.key} == set(doc.classes.presets["makeup"])
    panel.rows[13].roll()
    assert doc.style_of(13).kind == "random"


def test_the_newest_render_wins_with_a_slow_model(loaded, qtbot):
    slow = FakeEditor(delay=0.2)
    loaded.set_editor(slow)
    loaded.worker.wait_until_idle(5)
    doc = loaded.doc
    for cls in (2, 3, 4, 5, 6):  # five quick edits while the model is busy
        new = doc.mask.copy()
        new[:4, :4] = cls
        doc.set_mask(new)
        qtbot.wait(20)
    loaded.worker.wait_until_idle(10)
    assert len(slow.requests) < 6  # superseded requests never ran
    assert np.array_equal(loaded.result.result, doc.classes.colorize(doc.mask))  # the last edit is shown


def test_render_errors_show_in_the_status_bar(loaded, qtbot):
    loaded.set_editor(FakeEditor(fail=True))
    loaded.worker.wait_until_idle(5)
    qtbot.waitUntil(lambda: "refuses" in loaded.statusBar().currentMessage(), timeout=3000)


def test_attention_overlay_for_the_current_class(loaded, qtbot):
    loaded.tools.current_class = 1
    loaded.actions_.attention.trigger()
    loaded.worker.wait_until_idle(5)
    qtbot.waitUntil(lambda: loaded.result.attention is not None, timeout=3000)
    assert loaded.editor.requests[-1].attention_class == 1


def test_project_save_and_load_round_trip_is_identical(loaded, tmp_path):
    doc = loaded.doc
    ref = add_reference(doc)
    doc.set_style(13, StyleSource("reference", ref.key, alpha=0.4))
    doc.set_shape(2, ShapeSource(ref.key, 0.7))
    doc.set_locked(12, True)
    saved = {"mask": doc.mask.copy(), "styles": dict(doc.styles), "shapes": dict(doc.shapes), "face": doc.face.copy()}
    assert loaded.files.save(tmp_path / "p.ca2sis")
    doc.load_face(np.zeros((64, 64), np.uint8), None, "other")
    assert loaded.files.open_project(tmp_path / "p.ca2sis")
    loaded.worker.wait_until_idle(5)  # files are read on the worker
    assert np.array_equal(doc.mask, saved["mask"]) and np.array_equal(doc.face, saved["face"])
    assert doc.styles == saved["styles"] and doc.shapes == saved["shapes"] and doc.locked == {12}
    assert not doc.dirty and doc.name == "p"


def test_a_corrupt_project_shows_an_error_and_changes_nothing(loaded, tmp_path, monkeypatch):
    errors = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text, *a: errors.append((title, text)))
    doc = loaded.doc
    before = (doc.mask.copy(), doc.name, dict(doc.styles), len(doc.history))
    bad = tmp_path / "bad.ca2sis"
    bad.write_bytes(b"PK\x03\x04 definitely not a project")
    loaded.files.open_project(bad)
    loaded.worker.wait_until_idle(5)
    assert len(errors) == 1 and "bad.ca2sis" in errors[0][0] and "zip" in errors[0][1]
    assert np.array_equal(doc.mask, before[0]) and (doc.name, doc.styles, len(doc.history)) == before[1:]


def test_apply_shapes_to_mask_is_one_undo_step(loaded):
    doc = loaded.doc
    image, mask = face_pair()
    ref_mask = mask.copy()
    ref_mask[40:60, 20:44] = 10  # the reference has a mouth
    ref = doc.add_reference(ReferenceFace.make("mouth", image, ref_mask))
    doc.set_shape(10, ShapeSource(ref.key, 1.0))
    before = doc.mask.copy()
    steps = len(doc.history)
    assert loaded.shape_panel.apply_to_mask()
    assert (doc.mask == 10).sum() == (ref_mask == 10).sum() and doc.shapes == {}
    assert len(doc.history) == steps + 1
    doc.undo()
    assert np.array_equal(doc.mask, before) and 10 in doc.shapes


def test_ab_strip_renders_variants_and_a_click_keeps_one(loaded, qtbot):
    strip = loaded.ab_strip
    strip.set_class(13)
    strip.count.setValue(4)
    strip.request()
    loaded.worker.wait_until_idle(5)
    qtbot.waitUntil(lambda: not strip.list.item(3).icon().isNull(), timeout=3000)
    strip._pick(strip.list.item(2))
    assert loaded.doc.style_of(13) == strip.tiles[2][1]


def test_exports(loaded, tmp_path, qtbot):
    files = loaded.files
    assert files.export_image(tmp_path / "out.png")
    assert files.export_mask(tmp_path / "mask.png")
    assert (tmp_path / "mask-colour.png").exists()
    loaded.doc.set_style(13, StyleSource("random", seed=1))
    loaded.tools.current_class = 13
    assert files.export_animation(tmp_path / "anim.gif", kind="style", frames=3)
    loaded.worker.wait_until_idle(10)
    qtbot.waitUntil(lambda: (tmp_path / "anim.gif").exists(), timeout=5000)
    import imageio.v3 as iio

    assert iio.imread(tmp_path / "anim.gif").shape[0] == 4  # 0, .5, 1, .5


def test_a_wrong_mask_file_is_refused_clearly(window, tmp_path, monkeypatch):
    from PIL import Image

    errors = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text, *a: errors.append(text))
    photo = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(photo)
    window.files.open_mask(photo)
    window.worker.wait_until_idle(5)
    assert "palette" in errors[0] and window.doc.face is None


def test_recovery_after_a_crash_keeps_the_work_and_its_name_without_the_process_id(window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    from app.project_io import save_project

    image, mask = face_pair()
    window.doc.load_face(mask, image, "lost work")
    orphan = window.files.autosaver.folder / "999999999-lost_work.ca2sis"  # the crashed editor's process id
    save_project(window.doc, orphan, mark_clean=False)
    window.doc.load_face(np.zeros((64, 64), np.uint8), None, "blank")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    assert window.files.offer_recovery()
    assert np.array_equal(window.doc.mask, mask) and window.doc.dirty and not orphan.exists()
    assert window.doc.name == "lost work" and "999999999" not in window.windowTitle()
    asked, prompts = {}, []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda parent, title, start, filters: asked.update(
        start=start) or ("", ""))
    window.files.save()
    assert Path(asked["start"]).name == "lost work.ca2sis"  # the default file name
    monkeypatch.setattr(QMessageBox, "question", lambda parent, title, text, *a: prompts.append(text)
                        or QMessageBox.StandardButton.Cancel)
    window.interactive = True
    assert not window.files.maybe_keep_changes()
    window.interactive = False
    assert prompts == ["Save the changes to lost work?"]


def test_a_wrong_weights_file_is_reported_and_the_first_run_panel_says_why(qtbot, services, monkeypatch):
    from app.main_window import MainWindow

    errors = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text, *a: errors.append(text))

    def refuse(path, device):
        raise ValueError(f"{path.name} is not a (CA)²-SIS generator checkpoint")

    services.load_editor = refuse
    win = MainWindow(services)
    try:
        win.load_model(__import__("pathlib").Path("cat.jpg"))
        win.worker.wait_until_idle(5)
        qtbot.waitUntil(lambda: bool(errors), timeout=3000)
        assert "cat.jpg is not" in errors[0] and "cat.jpg is not" in win.first_run.text.text()
        assert win.bridge is None and win.right.currentWidget() is win.first_run
    finally:
        win.interactive = False
        win.close()


def test_hidden_classes_are_transparent_on_the_canvas():
    from app.canvas import overlay_lut
    from ca2sis.classes import CELEBAMASK_HQ

    alpha = np.full(19, 0.5, np.float32)
    alpha[13] = 0.0
    lut = overlay_lut(CELEBAMASK_HQ.palette(), alpha)
    assert lut[13] == 0  # fully transparent: the photo shows through
    r, g, b = CELEBAMASK_HQ[1].color  # skin at half opacity, premultiplied ARGB32
    assert lut[1] == (128 << 24) | (round(r * 128 / 255) << 16) | (round(g * 128 / 255) << 8) | round(b * 128 / 255)


def test_models_without_a_mapping_network_disable_the_dice(window):
    editor = FakeEditor()
    editor.has_mapping = False
    window.set_editor(editor)
    assert not window.style_panel.rows[13].dice.isEnabled()


def test_autosave_writes_while_dirty_and_a_save_removes_it(loaded, tmp_path):
    files, doc = loaded.files, loaded.doc
    files.autosave()
    assert not list(files.autosaver.folder.glob("*.ca2sis")) if files.autosaver.folder.exists() else True
    doc.set_style(13, StyleSource("random", seed=3))
    files.autosave()
    saved = list(files.autosaver.folder.glob("*.ca2sis"))
    assert len(saved) == 1
    from app.project_io import load_project

    assert load_project(saved[0]).styles == doc.styles
    assert files.save(tmp_path / "kept.ca2sis")
    assert not list(files.autosaver.folder.glob("*.ca2sis"))


def test_registering_weights_loads_the_registered_copy(window, qtbot, tmp_path):
    registered = []

    def register(path):
        registered.append(path)
        return tmp_path / "models" / path.name

    window.services.register_model = register
    window.services.load_editor = lambda path, device: FakeEditor()
    window.register_model(tmp_path / "latest_net_G.pth")
    window.worker.wait_until_idle(5)
    qtbot.waitUntil(lambda: window.bridge is not None, timeout=3000)
    # the model is loaded; nothing is open yet, so the result pane offers ways to start
    assert registered == [tmp_path / "latest_net_G.pth"] and window.right.currentWidget() is window.welcome


def test_a_mask_of_the_photo_size_can_replace_the_painted_mask(loaded, tmp_path, monkeypatch):
    from PIL import Image

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    doc = loaded.doc
    new = np.full((64, 64), 17, np.uint8)
    Image.fromarray(CELEBAMASK_HQ.colorize(new)).save(tmp_path / "colour.png")  # a colour mask
    assert loaded.files.open_mask(tmp_path / "colour.png")
    loaded.worker.wait_until_idle(5)
    assert (doc.mask == 17).all() and doc.face is not None
    doc.undo()
    assert (doc.mask != 17).any()
