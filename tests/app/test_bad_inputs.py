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


def test_opening_a_file_never_waits_on_the_gui_thread(window, tmp_path, qtbot) -> None:
    """A read that takes forever (a slow disk, a network share) blocks the worker, not the window."""
    import threading
    import time

    import numpy as np
    from PIL import Image

    window.interactive = False  # errors go to window.errors, not to a modal box
    release = threading.Event()
    real = window.services.load_mask

    def slow_load(path, classes):
        release.wait(10)
        return real(path, classes)

    window.services.load_mask = slow_load
    Image.fromarray(np.ones((64, 64), np.uint8)).save(tmp_path / "m.png")
    before = window.doc.mask.copy()
    start = time.monotonic()
    for open_file in (window.files.open_mask, window.files.open_any, window.files.open_project):
        open_file(tmp_path / ("m.ca2sis" if open_file == window.files.open_project else "m.png"))
    assert time.monotonic() - start < 1.0 and window.worker.busy
    assert np.array_equal(window.doc.mask, before)  # nothing applied before the worker has read the file
    release.set()
    assert window.worker.wait_until_idle(10)
    assert window.errors and "m.ca2sis" in window.errors[-1]  # the last open (the project) won; it is absent
