"""The editor's open paths with the bad-input corpus (``tests/bad_inputs``): File → Open for photos,
masks and projects, and drops on the window, the canvas, a style row and the gallery. Each refused
file leaves a clear message, no traceback, and the document exactly as it was; every file is read
off the GUI thread, so nothing blocks the window."""

from __future__ import annotations

import pytest

from tests.bad_inputs.entries import companions
from tests.bad_inputs.gui import EditorUnderTest, gui_entries
from tests.bad_inputs.sweep import failures, run_all

pytestmark = pytest.mark.gui

_EDITOR: list[EditorUnderTest] = []


def _editor() -> EditorUnderTest:
    if not _EDITOR:
        _EDITOR.append(EditorUnderTest())
    return _EDITOR[0]


ENTRIES = gui_entries(_editor)
PAIRS = [(entry, category) for entry in ENTRIES for category in entry.categories]


@pytest.fixture(scope="module")
def good(tmp_path_factory, qapp):
    yield companions(tmp_path_factory.mktemp("companions"))
    while _EDITOR:
        _EDITOR.pop().close()


@pytest.mark.parametrize(("entry", "category"), PAIRS, ids=[f"{e.name}:{c}" for e, c in PAIRS])
def test_a_refused_file_changes_nothing(entry, category, good, tmp_path) -> None:
    results = run_all([entry], tmp_path, good, full=False, category=category)
    assert results and not failures(results)


@pytest.mark.slow
def test_every_input_through_every_open_path(good, tmp_path) -> None:
    assert not failures(run_all(ENTRIES, tmp_path, good, full=True))
