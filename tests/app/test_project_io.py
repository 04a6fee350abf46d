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
    align = pytest.importorskip("ca2sis.align", reason="the photo pipeline is not installed")
    doc = rich_doc()
    matrix = np.array([[0.5, 0.01, -3.0], [-0.01, 0.5, 7.25]])
    doc.context.transform = align.AlignTransform(matrix, 512, (70, 90))
    back = load_project(save_project(doc, tmp_path / "a.ca2sis"))
    t = back.context.transform
    assert isinstance(t, align.AlignTransform)
    assert np.array_equal(t.matrix, matrix) and t.size == 512 and tuple(t.photo_size) == (70, 90)
