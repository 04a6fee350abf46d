"""Opening, saving, exporting and recovering, for the main window.

Every file is read on the worker thread, never on the GUI thread: photos and reference faces
(detection, alignment and parsing take seconds, with a progress dialog), masks and projects (a file
can be large, damaged or not a file at all: a pipe would block whoever reads it). The document changes
only on the GUI thread, once a file has been read and checked, so a refused file changes nothing.
Several faces → the user picks one; no face → the user may use the whole image. Every method that
takes a path skips its file dialog when given one (scripts, tests; wait with ``worker.wait_until_idle``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QFileDialog, QMessageBox, QProgressDialog

from app.autosave import Autosaver
from app.dialogs import FacePicker
from app.document import ReferenceFace
from app.export import animation_plans, pasted_into_photo, write_animation
from app.faces import OpenedFace, open_face, too_small
from app.project_io import SUFFIX, ProjectError, load_project, save_project
from app.services import IMAGE_SUFFIXES, FaceNotFound
from app.worker import JobResult, ProgressRelay
from ca2sis.requests import StyleSource
from ca2sis.safe_files import MASK_FORMATS, MAX_MASK_PIXELS, open_image

if TYPE_CHECKING:
    from app.main_window import MainWindow

AUTOSAVE_SECONDS = 30
PHOTO_FILTER = "Images (" + " ".join(f"*{s}" for s in IMAGE_SUFFIXES) + ");;All files (*)"
PROJECT_FILTER = f"CA2SIS projects (*{SUFFIX})"


def looks_like_index_mask(path: Path, num_classes: int) -> bool:
    """Whether a file is a single-channel image of class ids (reads it: call it off the GUI thread)."""
    try:
        with open_image(path, "mask", MAX_MASK_PIXELS, MASK_FORMATS) as im:
            if im.mode not in ("L", "P"):
                return False
            return int(np.asarray(im).max(initial=0)) < num_classes
    except (OSError, ValueError, EOFError, SyntaxError, MemoryError):
        return False


class FileOps:
    def __init__(self, win: MainWindow) -> None:
        self.win = win
        self.doc = win.doc
        self.settings = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "ca2sis", "studio")
        self.autosaver = Autosaver.default()
        self._autosave_timer = QTimer(win, interval=AUTOSAVE_SECONDS * 1000)
        self._autosave_timer.timeout.connect(self.autosave)
        self._autosave_timer.start()
        self._progress: QProgressDialog | None = None
        self._relay: ProgressRelay | None = None
        self._progress_title = ""
        self._progress_timer = QTimer(win, interval=100)  # shows the worker's latest progress report
        self._progress_timer.timeout.connect(self._show_latest_progress)
        self._reference_jobs = 0

    # ---- dialogs ----------------------------------------------------------------------------------
    def _ask_open(self, title: str, filters: str) -> Path | None:
        start = self.settings.value("last_dir", str(Path.home()))
        path, _ = QFileDialog.getOpenFileName(self.win, title, start, filters)
        self.win.return_focus()
        if path:
            self.settings.setValue("last_dir", str(Path(path).parent))
        return Path(path) if path else None

    def _ask_save(self, title: str, name: str, filters: str) -> Path | None:
        start = Path(self.settings.value("last_dir", str(Path.home()))) / name
        path, _ = QFileDialog.getSaveFileName(self.win, title, str(start), filters)
        self.win.return_focus()
        if path:
            self.settings.setValue("last_dir", str(Path(path).parent))
        return Path(path) if path else None

    def _show_progress(self, title: str) -> ProgressRelay:
        relay = ProgressRelay()
        dialog = QProgressDialog(title, "", 0, 100, self.win)
        dialog.setCancelButton(None)  # the pipeline cannot be interrupted half-way; closing is harmless
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(300)
        dialog.setValue(0)

        self._close_progress()
        self._progress, self._relay, self._progress_title = dialog, relay, title
        self._progress_timer.start()
        return relay

    def _show_latest_progress(self) -> None:
        latest = self._relay.take() if self._relay is not None else None
        if latest is not None and self._progress is not None:
            self._progress.setLabelText(f"{self._progress_title}\n{latest[0]}")
            self._progress.setValue(int(latest[1] * 100))

    def _close_progress(self) -> None:
        self._progress_timer.stop()
        self._relay = None
        if self._progress is not None:
            self._progress.reset()
            self._progress.deleteLater()
            self._progress = None

    # ---- opening -------------------------------------------------------------------------------------
    def open_any(self, path: Path) -> None:
        """A project, an index mask (single-channel image of class ids) or a photo, by content."""
        path = Path(path)
        if path.suffix.lower() == SUFFIX:
            self.open_project(path)
            return
        num_classes = len(self.doc.classes)

        def opened(result: JobResult) -> None:  # telling them apart reads the file: done on the worker
            (self.open_mask if result.ok and result.value else self.open_photo)(path)

        self.win.run_job("open", ("kind", str(path)), lambda: looks_like_index_mask(path, num_classes), opened)

    def open_photo(self, path: Path | None = None, face_index: int | None = None, whole_image: bool = False,
                   confirmed: bool = False) -> None:
        path = path or self._ask_open("Open a photo", PHOTO_FILTER)
        if path is None or not (confirmed or self.maybe_keep_changes()):
            return
        relay = self._show_progress(f"Opening {path.name}")
        services, classes = self.win.services, self.doc.classes

        def job() -> OpenedFace:
            return open_face(services, path, classes, face_index, whole_image, progress=relay.report)

        self.win.run_job("open", ("open", str(path), face_index, whole_image), job,
                         lambda r: self._photo_opened(path, r, face_index))

    def _photo_opened(self, path: Path, result: JobResult, asked: int | None) -> None:
        self._close_progress()
        if not result.ok:
            if isinstance(result.exception, FaceNotFound):
                if self.win.ask("No face found", f"No face was found in {path.name}.\n\n"
                                "Use the whole image as the face?"):
                    self.open_photo(path, whole_image=True, confirmed=True)
                return
            self.win.report_error(f"Could not open {path.name}", result.error or "")
            return
        opened: OpenedFace = result.value
        if len(opened.faces) > 1 and asked is None:
            choice = self._choose_face(opened)
            if choice is None:
                return
            if choice != opened.face_index:
                self.open_photo(path, face_index=choice, confirmed=True)
                return
        chosen = opened.faces[opened.face_index] if opened.faces and opened.face_index is not None else None
        warning = too_small(chosen, self._model_resolution())
        if warning and not self.win.ask("Small face", f"{warning}\n\nOpen it anyway?"):
            return
        self.doc.load_face(opened.mask, opened.aligned, opened.name, opened.context)
        notes = opened.warnings + (["the face is small for the model: expect a soft result"] if warning else [])
        self.win.statusBar().showMessage(f"Opened {path.name}" + (f" — {'; '.join(notes)}" if notes else ""), 10000)

    def _choose_face(self, opened: OpenedFace) -> int | None:
        if not self.win.interactive:
            return opened.face_index or 0
        picker = FacePicker(opened.context.photo, opened.faces, opened.face_index or 0, self.win,
                            self._model_resolution())
        chosen = picker.exec()
        self.win.return_focus()
        return picker.choice if chosen else None

    def _model_resolution(self) -> int | None:
        """The loaded model's output side (None before a model is loaded)."""
        return getattr(getattr(self.win.bridge, "editor", None), "resolution", None)

    def open_mask(self, path: Path | None = None) -> bool:
        """Read a mask on the worker, then use it (False: nothing to read). A refused file changes nothing."""
        path = path or self._ask_open("Open a mask (index or colour PNG)", "Masks (*.png *.bmp *.tif);;All files (*)")
        if path is None:
            return False
        load, classes = self.win.services.load_mask, self.doc.classes

        def done(result: JobResult) -> None:
            if not result.ok:
                self.win.report_error(f"Could not open {path.name}", result.error or "")
            else:
                self._use_mask(path, result.value)

        self.win.run_job("open", ("mask", str(path)), lambda: load(path, classes), done)
        return True

    def _use_mask(self, path: Path, mask: np.ndarray) -> bool:
        if self.doc.face is not None and mask.shape == self.doc.mask.shape and self.win.ask(
            "Open mask", f"Use {path.name} as the mask of the current photo?\n\n"
            "Yes: replace the painted mask (undoable). No: start a new document from the mask alone."
        ):
            self.doc.set_mask(mask, f"Mask from {path.name}")
            return True
        if not self.maybe_keep_changes():
            return False
        self.doc.load_face(mask, None, path.stem)
        return True

    def open_project(self, path: Path | None = None) -> bool:
        """Read and check a project on the worker, then replace the document (False: nothing to read)."""
        path = path or self._ask_open("Open a project", PROJECT_FILTER)
        if path is None:
            return False
        classes = self.doc.classes

        def done(result: JobResult) -> None:
            if not result.ok:  # nothing has been touched
                self.win.report_error(f"Could not open {path.name}", result.error or "")
            elif self.maybe_keep_changes():
                self.doc.replace_with(result.value)
                self.win.statusBar().showMessage(f"Opened project {path.name}", 5000)

        self.win.run_job("open", ("project", str(path)), lambda: load_project(path, classes), done)
        return True

    # ---- references --------------------------------------------------------------------------------
    def add_reference(self, path: Path | None = None, then: list[int] | None = None) -> None:
        """Open a photo as a reference face; with ``then``, give those classes its style afterwards."""
        path = path or self._ask_open("Add a reference face", PHOTO_FILTER)
        if path is None:
            return
        services, classes = self.win.services, self.doc.classes
        self._reference_jobs += 1
        channel = f"reference-{self._reference_jobs}"  # each load has its own channel: none replaces another

        def job() -> OpenedFace:
            try:
                return open_face(services, path, classes)
            except FaceNotFound:
                return open_face(services, path, classes, whole_image=True)

        def done(result: JobResult) -> None:
            if not result.ok:
                self.win.report_error(f"Could not use {path.name} as a reference", result.error or "")
                return
            opened: OpenedFace = result.value
            self.win.statusBar().showMessage(f"Reference {path.name} added", 5000)
            # Listed by its file name: a person knows the file they picked (data sets name theirs by hash).
            ref = self.doc.add_reference(ReferenceFace.make(path.name, opened.aligned, opened.mask))
            if then:
                self.assign_reference(then, ("reference", ref.key))

        self.win.statusBar().showMessage(f"Reading reference {path.name}…")
        self.win.run_job(channel, str(path), job, done)

    def assign_reference(self, classes: list[int], payload: tuple[str, str]) -> None:
        kind, value = payload
        if kind == "file":
            self.add_reference(Path(value), then=classes)
            return
        if value not in self.doc.references:
            self.win.show_error_status("that reference face is no longer loaded")
            return
        ref = self.doc.references[value]
        label = ", ".join(self.doc.classes[c].label for c in classes[:3]) + ("…" if len(classes) > 3 else "")
        self.doc.change_settings({("style", c): StyleSource("reference", value) for c in classes},
                                 f"Style of {label} from {ref.name}")

    # ---- saving ---------------------------------------------------------------------------------------
    def save(self, path: Path | None = None, save_as: bool = False) -> bool:
        if path is None and (save_as or self.doc.path is None):
            path = self._ask_save("Save project", f"{self.doc.name}{SUFFIX}", PROJECT_FILTER)
            if path is None:
                return False
        try:
            written = save_project(self.doc, path or self.doc.path)
        except OSError as exc:
            self.win.report_error("Could not save the project", f"{exc.strerror or exc} ({exc.filename or ''})")
            return False
        self.autosaver.discard_own()
        self.win.statusBar().showMessage(f"Saved {written}", 5000)
        return True

    def maybe_keep_changes(self) -> bool:
        """Before the document is replaced: offer to save; False means the user cancelled."""
        if not self.doc.dirty or not self.win.interactive:
            return True
        button = QMessageBox.StandardButton
        buttons = button.Save | button.Discard | button.Cancel
        answer = QMessageBox.question(self.win, "Unsaved changes", f"Save the changes to {self.doc.name}?", buttons)
        self.win.return_focus()
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def autosave(self) -> None:
        if self.doc.dirty and not self.doc.in_stroke:
            try:
                self.autosaver.save(self.doc)
            except OSError as exc:
                self.win.show_error_status(f"autosave failed: {exc}")

    def offer_recovery(self) -> bool:
        orphans = self.autosaver.orphans()
        if not orphans:
            return False
        latest = orphans[0]
        if not self.win.ask("Recover unsaved work?", f"The editor did not close cleanly last time.\n\n"
                            f"Recover “{latest.name.split('-', 1)[1]}”?", default=False):
            for f in orphans:
                f.unlink(missing_ok=True)
            return False
        try:
            loaded = self.autosaver.recover(latest, self.doc.classes)
        except ProjectError as exc:
            self.win.report_error("The autosave could not be read", str(exc))
            return False
        self.doc.replace_with(loaded)
        self.doc.dirty = True
        self.win._update_title()
        latest.unlink(missing_ok=True)
        return True

    # ---- exports ---------------------------------------------------------------------------------------
    def _result_image(self) -> np.ndarray | None:
        if self.win.last_result is None:
            self.win.show_error_status("nothing rendered yet")
            return None
        return self.win.last_result.image

    def export_image(self, path: Path | None = None) -> bool:
        image = self._result_image()
        if image is None:
            return False
        path = path or self._ask_save("Export the generated image", f"{self.doc.name}-edited.png",
                                      "PNG (*.png);;JPEG (*.jpg)")
        return path is not None and self._write(lambda: self.win.services.save_image(path, image), path)

    def export_mask(self, path: Path | None = None) -> bool:
        path = path or self._ask_save("Export the mask", f"{self.doc.name}-mask.png", "PNG (*.png)")
        if path is None:
            return False
        colour = path.with_name(f"{path.stem}-colour{path.suffix}")
        save = self.win.services.save_mask
        return self._write(lambda: (save(path, self.doc.mask, colour=False),
                                    save(colour, self.doc.mask, colour=True)), path, f"{path.name} and {colour.name}")

    def export_pasted(self, path: Path | None = None) -> bool:
        image = self._result_image()
        if image is None:
            return False
        try:
            full = pasted_into_photo(self.doc, image, self.win.services.paste_back)
        except ValueError as exc:
            self.win.report_error("Cannot paste the face back", str(exc))
            return False
        path = path or self._ask_save("Export the edited photo", f"{self.doc.name}-full.png",
                                      "PNG (*.png);;JPEG (*.jpg)")
        return path is not None and self._write(lambda: self.win.services.save_image(path, full), path)

    def export_animation(self, path: Path | None = None, kind: str = "style", cls: int | None = -1,
                         frames: int = 12) -> bool:
        cls = self.win.tools.current_class if cls == -1 else cls
        if self.win.bridge is None:
            self.win.report_error("Cannot export an animation", "no model is loaded")
            return False
        try:
            plans = animation_plans(self.doc, kind, cls, frames)
        except ValueError as exc:
            self.win.report_error("Cannot export an animation", str(exc))
            return False
        path = path or self._ask_save("Export animation", f"{self.doc.name}-{kind}.gif", "GIF (*.gif);;MP4 (*.mp4)")
        if path is None:
            return False
        bridge = self.win.bridge
        relay = self._show_progress(f"Rendering {len(plans)} frames for {path.name}")

        def job() -> Path:
            frames = []
            for i, plan in enumerate(plans):
                relay.report(f"frame {i + 1} of {len(plans)}", i / len(plans))
                frames.append(bridge.render(plan).image)
            relay.report("writing the file", 1.0)
            return write_animation(path, frames)

        def done(result: JobResult) -> None:
            self._close_progress()
            if result.ok:
                self.win.statusBar().showMessage(f"Wrote {path.name} ({len(plans)} frames)", 8000)
            else:
                self.win.report_error("The animation could not be written", result.error or "")

        self.win.statusBar().showMessage(f"Rendering {len(plans)} frames…")
        self.win.run_job("animation", str(path), job, done)
        return True

    def _write(self, fn, path: Path, what: str | None = None) -> bool:
        try:
            fn()
        except (OSError, ValueError) as exc:
            self.win.report_error(f"Could not write {path.name}", str(exc))
            return False
        self.win.statusBar().showMessage(f"Wrote {what or path.name}", 5000)
        return True
