"""Fit to photo, in the window: the actions, the progress bar with Cancel, the "fitted" status.

The fit runs on the worker thread (channel ``fit``) like every model job, so painting stays live;
renders queue behind it and show the fitted face when it ends. Progress travels through a
:class:`~app.worker.ProgressRelay` and Cancel through a ``threading.Event`` the fit polls every step:
a cancelled fit leaves the document as it was. A finished fit becomes one undo step of the document
("Fit to photo"); "Remove fit" is another, so undo and redo move between fitted and unfitted without
fitting again.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QLabel, QMenu, QProgressBar, QPushButton, QToolBar

from app.fit_record import FitRecord
from app.qt_util import make_action
from app.render_bridge import plan_for
from app.worker import JobResult, ProgressRelay
from ca2sis.fit import FitCancelled

if TYPE_CHECKING:
    from app.main_window import MainWindow


class FitController(QObject):
    def __init__(self, win: MainWindow) -> None:
        super().__init__(win)
        self.win = win
        self.doc = win.doc
        self.steps: int | None = None  # None: the model's default fit (tests and scripts may shorten it)
        self.running = False
        self.last_error: str | None = None
        self._cancel: threading.Event | None = None
        self._relay: ProgressRelay | None = None
        self._face_key: Any = None
        self.fit_action = make_action(win, "&Fit to Photo", "Ctrl+Shift+F",
                                      "Tune the model to this photo so the rendered face is the person "
                                      "in it (about half a minute on a CPU)", "fit")
        self.fit_action.triggered.connect(lambda: self.start())
        self.remove_action = make_action(win, "Remove Fi&t", "", "Go back to the base model for this face")
        self.remove_action.triggered.connect(self.remove)

        bar = win.statusBar()
        self.label = QLabel("")
        self.label.setContentsMargins(8, 0, 8, 0)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(220)
        self.progress.setFormat("Fitting %p%")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the fit; the face stays as it was")
        self.cancel_button.clicked.connect(self.cancel)
        for w in (self.label, self.progress, self.cancel_button):
            bar.addPermanentWidget(w)
        self.progress.hide()
        self.cancel_button.hide()
        self._timer = QTimer(self, interval=100)
        self._timer.timeout.connect(self._show_progress)
        self.doc.subscribe(self._on_doc)
        self.refresh()

    def install(self, menu: QMenu, toolbar: QToolBar | None) -> list:
        menu.addAction(self.fit_action)
        menu.addAction(self.remove_action)
        if toolbar is not None:
            toolbar.addSeparator()
            toolbar.addAction(self.fit_action)
        return [self.fit_action, self.remove_action]

    # ---- running ---------------------------------------------------------------------------------
    def start(self) -> bool:
        win = self.win
        if self.running:
            return False
        if win.bridge is None:
            win.show_error_status("Fit to photo: no model loaded")
            return False
        if self.doc.face is None:
            win.show_error_status("Fit to photo needs a photo: open a portrait first")
            return False
        plan, bridge, steps = plan_for(self.doc, attention=False), win.bridge, self.steps
        self._cancel, self._relay = threading.Event(), ProgressRelay()
        self._face_key = plan.request.own_key
        cancel, relay = self._cancel, self._relay

        def job() -> FitRecord:
            relay.report("preparing", 0.0)
            return bridge.fit(plan, steps=steps, progress=relay.report, cancel=cancel.is_set)

        self.running = True
        self.last_error = None
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()
        self.cancel_button.setEnabled(True)
        self._timer.start()
        win.statusBar().showMessage("Fitting the model to the photo… (you can keep editing)")
        self.refresh()
        win.run_job("fit", ("fit", self._face_key), job, self._done)
        return True

    def cancel(self) -> None:
        if self._cancel is not None and self.running:
            self._cancel.set()
            self.cancel_button.setEnabled(False)
            self.win.statusBar().showMessage("Cancelling the fit…")

    def _show_progress(self) -> None:
        latest = self._relay.take() if self._relay is not None else None
        if latest is not None:
            stage, fraction = latest
            self.progress.setValue(int(fraction * 1000))
            self.progress.setToolTip(stage)

    def _done(self, result: JobResult) -> None:
        self.running = False
        self._timer.stop()
        self.progress.hide()
        self.cancel_button.hide()
        win = self.win
        if isinstance(result.exception, FitCancelled):
            win.statusBar().showMessage("Fit cancelled; the face is as it was", 8000)
        elif not result.ok:
            self.last_error = result.error
            win.report_error("Fit to photo failed", result.error or "")
        elif plan_for(self.doc, attention=False).request.own_key != self._face_key:
            win.statusBar().showMessage("The fit was dropped: another face was opened meanwhile", 8000)
        else:
            record: FitRecord = result.value
            self.doc.set_fit(record)
            win.statusBar().showMessage(f"Face {record.summary} ({result.seconds:.0f} s)", 10000)
        self.refresh()

    def remove(self) -> None:
        if self.doc.fit is not None:
            self.doc.set_fit(None)
            self.win.statusBar().showMessage("Fit removed: the face renders with the base model", 5000)

    # ---- state ----------------------------------------------------------------------------------
    def _on_doc(self, event: str, payload: object) -> None:
        if event in ("replaced", "setting"):
            self.refresh()

    def _problem(self, fit: FitRecord | None) -> str | None:
        # Read from the editor's attributes, not through the bridge: the GUI never waits on a running job.
        model = getattr(self.win.editor, "fingerprint", None)
        if fit is None or model is None or fit.model == model:
            return None
        name = getattr(self.win.editor, "model_name", "?")
        return (f"this fit was made with the model {fit.model_name!r}, not with the loaded {name!r}; "
                "it is kept in the project but not used (fit again, or load that model)")

    def refresh(self) -> None:
        fit = self.doc.fit
        problem = self._problem(fit)
        self.fit_action.setEnabled(not self.running and self.doc.face is not None)
        self.remove_action.setEnabled(fit is not None and not self.running)
        if fit is None:
            self.label.setText("")
            self.label.hide()
            return
        self.label.show()
        if problem is None:
            self.label.setText(f"Fitted ({fit.summary.removeprefix('fitted: ')})")
            self.label.setToolTip("The face renders with its fit to the photo (Remove Fit goes back)")
        else:
            self.label.setText("Fit not used")
            self.label.setToolTip(problem)
