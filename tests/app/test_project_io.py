"""The .ca2sis project file: round trip, atomic writes, clear errors."""

import zipfile

import numpy as np
import pytest

from app.autosave import Autosaver
from app.document import Document, PhotoContext, ReferenceFace
from app.project_io import ProjectError, load_project, save_project
from ca2sis.requests import ShapeSource, StyleSource


def rich_doc():
    rng = np.random.default_rng(0)
    mask = rng.integers(0, 19, (64, 64), dtype=np.uint8)
    face = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    doc = Document()
    doc.load_face(mask, face, "portrait", PhotoContext(rng.integers(0, 256, (90, 70, 3), dtype=np.uint8), None, 1))
    ref = doc.add_reference(ReferenceFace.make("ref", face[::-1].copy(), mask[::-1].copy()))
    doc.set_style(13, StyleSource("reference", ref.key, alpha=0.6))
    doc.set_style(4, StyleSource("random", seed=42, alpha=0.3))
    doc.set_shape(2, ShapeSource(ref.key, 0.25))
    doc.set_shape_all(ShapeSource(ref.key, 0.1))
    doc.set_locked(13, True)
    doc.set_hidden(18, True)
    doc.mask[0, :10] = 5
    return doc


def test_save_then_load_is_identical(tmp_path):
    doc = rich_doc()
    path = save_project(doc, tmp_path / "face.ca2sis")
    assert not doc.dirty and doc.path == path
    back = load_project(path)
    assert (back.mask == doc.mask).all() and (back.original_mask == doc.original_mask).all()
    assert (back.face == doc.face).all() and (back.context.photo == doc.context.photo).all()
    assert back.styles == doc.styles and back.shapes == doc.shapes and back.shape_all == doc.shape_all
    assert back.locked == doc.locked and back.hidden == doc.hidden
    assert list(back.references) == list(doc.references)
    for key, ref in doc.references.items():
        assert (back.references[key].image == ref.image).all() and (back.references[key].mask == ref.mask).all()


def test_the_suffix_is_added_and_no_temporary_file_remains(tmp_path):
    path = save_project(rich_doc(), tmp_path / "face")
    assert path.name == "face.ca2sis"
    assert [p.name for p in tmp_path.iterdir()] == ["face.ca2sis"]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"this is not a zip", "not a zip archive"),
        (None, "project.json is missing"),
    ],
)
def test_corrupt_files_raise_a_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.ca2sis"
    if content is None:
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("mask.png", b"")
    else:
        path.write_bytes(content)
    with pytest.raises(ProjectError, match=message):
        load_project(path)


def test_a_truncated_project_is_refused(tmp_path):
    path = save_project(rich_doc(), tmp_path / "face.ca2sis")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ProjectError):
        load_project(path)


def test_a_style_pointing_at_a_missing_reference_is_refused(tmp_path):
    doc = rich_doc()
    doc.references.clear()
    doc.shapes.clear()
    doc.shape_all = None
    path = save_project(doc, tmp_path / "face.ca2sis")
    with pytest.raises(ProjectError, match="missing reference"):
        load_project(path)


def test_autosaves_of_dead_processes_are_offered_for_recovery(tmp_path):
    saver = Autosaver(tmp_path / "autosave")
    own = saver.save(rich_doc())
    assert own.exists() and saver.orphans() == []  # our own file is not an orphan
    orphan = own.with_name("999999999-crashed.ca2sis")
    orphan.write_bytes(own.read_bytes())
    assert saver.orphans() == [orphan]
    saver.discard_own()
    assert not own.exists()


def test_the_alignment_survives_a_round_trip(tmp_path):
    align = pytest.importorskip("ca2sis.photo.align", reason="the photo pipeline is not installed")
    doc = rich_doc()
    matrix = np.array([[0.5, 0.01, -3.0], [-0.01, 0.5, 7.25]])
    doc.context.transform = align.AlignTransform(matrix, 512, (70, 90))
    back = load_project(save_project(doc, tmp_path / "a.ca2sis"))
    t = back.context.transform
    assert isinstance(t, align.AlignTransform)
    assert np.array_equal(t.matrix, matrix) and t.size == 512 and tuple(t.photo_size) == (70, 90)


def _edited(tmp_path, edit):
    """A saved rich project whose project.json went through ``edit(text) -> text``."""
    path = save_project(rich_doc(), tmp_path / "face.ca2sis")
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    members["project.json"] = edit(members["project.json"].decode()).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda t: t.replace('"styles": {', '"styles": [{').replace('}\n },\n "shapes"', '}\n }],\n "shapes"'),
         "styles must be an object"),
        (lambda t: t.replace('"seed": 0', '"seed": Infinity'), "Infinity, which is not a number"),
        (lambda t: t.replace('"attention_class": null', '"attention_class": 999'), "attention class = 999"),
        (lambda t: t.replace('"attention_class": null', '"attention_class": "hair"'), "'hair' is not a class"),
        (lambda t: t.replace('"name": "portrait"', '"name": ' + "[" * 5000 + "]" * 5000), "nested 5001 levels"),
    ],
)
def test_settings_of_the_wrong_type_or_range_are_refused_when_opening(tmp_path, edit, message):
    with pytest.raises(ProjectError, match=message):
        load_project(_edited(tmp_path, edit))


def test_a_zip_bomb_is_refused_from_the_zip_directory(tmp_path):
    path = _edited(tmp_path, lambda t: t + " " * (5 << 20))  # 5 MB of spaces: a few kB in the zip
    with pytest.raises(ProjectError, match="unpacks to 5.0 MB; at most 4.0 MB"):
        load_project(path)


def test_a_reference_whose_mask_has_another_size_is_refused_when_opening(tmp_path):
    doc = rich_doc()
    ref = next(iter(doc.references.values()))
    ref.mask = ref.mask[:, :40]
    with pytest.raises(ProjectError, match="but its mask is 40×64"):
        load_project(save_project(doc, tmp_path / "face.ca2sis"))


def test_a_kill_during_a_save_always_leaves_a_loadable_project(tmp_path):
    """SIGKILL at random moments of a process that saves over the same project again and again."""
    import os
    import random
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    path = save_project(rich_doc(), tmp_path / "face.ca2sis")
    saver = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from app.project_io import load_project, save_project\n"
        "doc = load_project(sys.argv[2])\n"
        "print('ready', flush=True)\n"
        "while True:\n"
        "    doc.mask[0, 0] = (int(doc.mask[0, 0]) + 1) % 19\n"
        "    save_project(doc, sys.argv[2], mark_clean=False)\n"
    )
    rng = random.Random(5)
    for _ in range(4):
        proc = subprocess.Popen([sys.executable, "-c", saver, str(root), str(path)], stdout=subprocess.PIPE)
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.05, 0.6))  # tens of saves in: the kill lands anywhere, mid-write included
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert load_project(path).mask.shape == (64, 64)
        others = {p.name for p in tmp_path.iterdir()} - {"face.ca2sis"}
        assert all(name.startswith(".face.ca2sis.") and name.endswith(".tmp") for name in others)  # an interrupted
        # save's temporary file at most: the project itself is the old one or the new one, whole
