"""The editor's open paths as entry points: File → Open (photo, mask, project) and every drop target.

One main window (offscreen, not interactive: errors go to ``window.errors``) serves every case. Before
each case the document is reset to a known face; after it, a refused file must have left that
document exactly as it was. Files are read on the worker thread, so each case waits for the worker
(bounded in time like every other entry point).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tests.bad_inputs.case import Case
from tests.bad_inputs.entries import Companions, Entry
from tests.bad_inputs.harness import LIMIT_S, Outcome, Sandbox, run_case


def fingerprint(doc) -> tuple:
    from ca2sis.requests import content_key

    return (
        content_key(doc.mask), None if doc.face is None else content_key(doc.face), doc.name, str(doc.path),
        tuple(sorted(doc.styles.items())), tuple(sorted(doc.shapes.items())), doc.shape_all, tuple(doc.references),
        tuple(sorted(doc.locked)), tuple(sorted(doc.hidden)), doc.seed, doc.attention_class, doc.context is None,
        len(doc.history), doc.dirty,
    )


class EditorUnderTest:
    """A main window wired to the real photo decoders (no detection: the corpus is about files)."""

    def __init__(self) -> None:
        from app.main_window import MainWindow
        from app.services import Services
        from ca2sis import photo

        services = Services(load_image=photo.load_image, load_mask=photo.load_mask)
        self.window = MainWindow(services, interactive=False)
        self.window.resize(900, 700)
        self.window.show()
        self.crashes: list[str] = []
        self.window.worker.finished.connect(self._result)
        rng = np.random.default_rng(1)
        self.face = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
        self.mask = np.ones((64, 64), np.uint8)
        self.mask[16:48, 16:48] = 13

    def _result(self, result) -> None:
        # Errors are data on the worker; one that is not a ValueError/OSError is a crash, not a refusal.
        if result.exception is not None and not isinstance(result.exception, ValueError | OSError):
            self.crashes.append(f"{type(result.exception).__name__}: {result.exception}")

    def reset(self) -> None:
        win = self.window
        from app.document import Document

        win.worker.wait_until_idle(LIMIT_S)
        fresh = Document(win.doc.classes, self.mask, self.face)
        fresh.name = "before"
        win.doc.replace_with(fresh)
        win.errors.clear()
        self.crashes.clear()

    def close(self) -> None:
        self.window.worker.shutdown()
        self.window.close()
        self.window.deleteLater()


def _drop(widget, path: Path | str, pos=None) -> None:
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    pos = pos or QPointF(widget.width() / 2, widget.height() / 2)
    widget.dropEvent(QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                Qt.KeyboardModifier.NoModifier))


ACTIONS: dict[str, tuple[tuple[str, ...], Callable[[Any, Path | str], None]]] = {
    "editor: open photo": (("images",), lambda w, p: w.files.open_photo(Path(p), confirmed=True)),
    "editor: open mask": (("masks",), lambda w, p: w.files.open_mask(Path(p))),
    "editor: open project": (("projects",), lambda w, p: w.files.open_project(Path(p))),
    # A dropped file opens by content: a grey image that is no mask of ours opens as a photo.
    "editor: drop on window": (("images", "masks", "projects"), lambda w, p: _drop(w, p)),
    "editor: drop on canvas": (("images",), lambda w, p: _drop(w.canvas, p, w.canvas.to_widget(32, 32))),
    "editor: drop on style row": (("images",), lambda w, p: _drop(w.style_panel.rows[13], p)),
    "editor: drop on gallery": (("images",), lambda w, p: _drop(w.gallery, p)),
}


def gui_entry(name: str, editor: Callable[[], EditorUnderTest]) -> Entry:
    categories, action = ACTIONS[name]

    def run(case: Case, box: Sandbox, good: Companions) -> Outcome:
        under_test = editor()
        win = under_test.window
        under_test.reset()
        before = fingerprint(win.doc)
        hook, caught = sys.excepthook, []
        sys.excepthook = lambda kind, exc, tb: caught.append(f"{kind.__name__}: {exc}")  # exceptions in Qt slots

        def call(value: Path | str) -> tuple[bool, str]:
            try:
                action(win, value)
                win.worker.wait_until_idle(LIMIT_S)
            finally:
                sys.excepthook = hook
            crashes = caught + under_test.crashes
            if crashes:
                raise RuntimeError("; ".join(crashes))
            changed = fingerprint(win.doc) != before
            if win.errors:
                return True, win.errors[-1]
            return not changed, ""  # changed: accepted; unchanged without a word: a silent refusal

        outcome = run_case(name, case, box, call, ())
        outcome.doc_changed = outcome.refused and fingerprint(win.doc) != before
        return outcome

    lenient = ("masks",) if name == "editor: drop on window" else ()
    return Entry(name, categories, run, "gui", lenient=lenient)


def gui_entries(editor: Callable[[], EditorUnderTest]) -> list[Entry]:
    return [gui_entry(name, editor) for name in ACTIONS]
