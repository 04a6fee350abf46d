"""The main window: canvas and result side by side, panels in docks, one worker for the model.

It owns the document, the tool state and the worker, wires the panels to them, and schedules renders:
while a stroke runs, at most every :data:`LIVE_INTERVAL_MS`; immediately after any other change.
File handling lives in :mod:`app.file_ops`, menus and shortcuts in :mod:`app.actions`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QWidget,
)

from app.ab_strip import ABStrip
from app.actions import install_actions, sample_portraits
from app.canvas import MaskCanvas
from app.document import Document
from app.file_ops import FileOps
from app.first_run import FirstRunPanel
from app.fit_action import FitController
from app.gallery import Gallery
from app.latency import RenderTraces
from app.palette import ClassPalette
from app.render_bridge import RenderBridge, RenderPlan, plan_for
from app.result_view import ResultView
from app.services import Services
from app.shape_panel import ShapePanel
from app.shape_preview import OutlinePreview
from app.style_panel import StylePanel
from app.tools import ToolState
from app.welcome import TEMPLATE_NAME, WelcomePanel, is_blank, template_mask
from app.worker import JobResult, Worker
from ca2sis.classes import CELEBAMASK_HQ

log = logging.getLogger(__name__)
LIVE_INTERVAL_MS = 150  # live renders while painting: often enough to follow, rarely enough to keep up


class MainWindow(QMainWindow):
    rendered = Signal()  # a current render result was shown (tests and the screenshot mode wait on it)
    displayed = Signal(object)  # RenderTrace: a render's pixels reached the screen (the latency benchmark)

    def __init__(self, services: Services, interactive: bool = True, device: str = "auto") -> None:
        super().__init__()
        self.services = services
        self.interactive = interactive  # False: dialogs take their default answer (screenshots, scripts)
        self.device = device
        self.errors: list[str] = []
        self.editor: Any = None
        self.bridge: RenderBridge | None = None
        self.last_result: Any = None
        self.doc = Document(CELEBAMASK_HQ)
        self.tools = ToolState(self)
        self.worker = Worker(self)
        self.worker.finished.connect(self._on_job)
        self.worker.busy_changed.connect(self._on_busy)
        self._callbacks: dict[int, Callable[[JobResult], None]] = {}
        self.traces = RenderTraces()  # where each render's time went, from the change to the pixels
        self.setWindowTitle("CA2SIS Studio")
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)

        self.canvas = MaskCanvas(self.doc, self.tools)
        self.outline = OutlinePreview(self.doc, self.canvas, self)
        self.result = ResultView()
        self.first_run = FirstRunPanel()
        self.first_run.set_hints(services.model_hints())
        self.welcome = WelcomePanel(sample_portraits(), self.doc.classes)
        self.right = QStackedWidget()
        self.right.addWidget(self.first_run)
        self.right.addWidget(self.welcome)
        self.right.addWidget(self.result)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.canvas)
        splitter.addWidget(self.right)
        splitter.setSizes([1, 1])
        splitter.setChildrenCollapsible(False)
        self.setCentralWidget(splitter)

        self.palette_panel = ClassPalette(self.doc, self.tools)
        self.style_panel = StylePanel(self.doc)
        self.shape_panel = ShapePanel(self.doc)
        self.gallery = Gallery(self.doc)
        self.ab_strip = ABStrip(self.doc)
        self.docks = {
            "classes": self._dock("Classes", self.palette_panel, Qt.DockWidgetArea.LeftDockWidgetArea),
            "styles": self._dock("Styles", self.style_panel, Qt.DockWidgetArea.RightDockWidgetArea),
            "references": self._dock("References", self.gallery, Qt.DockWidgetArea.RightDockWidgetArea),
            "shapes": self._dock("Shapes", self.shape_panel, None),
            "ab": self._dock("A/B strip", self.ab_strip, Qt.DockWidgetArea.BottomDockWidgetArea),
        }
        self.tabifyDockWidget(self.docks["styles"], self.docks["shapes"])
        self.docks["styles"].raise_()
        self._docks_sized = False

        self.cursor_label = QLabel("")
        self.statusBar().addPermanentWidget(self.cursor_label)
        self.device_label = QLabel("No model")
        self.model_label = QLabel("")
        self.time_label = QLabel("")
        for w in (self.time_label, self.model_label, self.device_label):
            w.setContentsMargins(8, 0, 8, 0)
            self.statusBar().addPermanentWidget(w)

        self.files = FileOps(self)
        self.actions_ = install_actions(self)
        self.fitting = FitController(self)
        face_menu = QMenu("F&ace", self)
        self.menuBar().insertMenu(self.menuBar().actions()[-1], face_menu)  # before Help
        self.actions_.all += self.fitting.install(face_menu, self.findChild(QToolBar, "tools"))

        self._render_timer = QTimer(self, singleShot=True, interval=0)  # coalesces bursts of changes
        self._render_timer.timeout.connect(self.submit_render)
        self._live_timer = QTimer(self, singleShot=True, interval=LIVE_INTERVAL_MS)
        self._live_timer.timeout.connect(lambda: self.submit_render(live=True))
        self.result.painted.connect(self._on_painted)
        self.doc.subscribe(self._on_doc)
        self.tools.changed.connect(self._on_tools)
        self.canvas.stroke_extended.connect(lambda: self._live_timer.isActive() or self._live_timer.start())
        self.canvas.stroke_finished.connect(lambda: self.schedule_render(at_once=True))
        self.canvas.hovered.connect(self.cursor_label.setText)
        self.canvas.class_picked.connect(lambda c: setattr(self.tools, "current_class", c))
        self.canvas.reference_dropped.connect(lambda c, p: self.files.assign_reference([c], p))
        self.style_panel.reference_dropped.connect(lambda c, p: self.files.assign_reference([c], p))
        self.gallery.add_requested.connect(lambda: self.files.add_reference())
        self.gallery.files_dropped.connect(lambda paths: [self.files.add_reference(Path(p)) for p in paths])
        self.gallery.apply_requested.connect(
            lambda key, preset: self.files.assign_reference(list(self.doc.classes.presets[preset]), ("reference", key))
        )
        self.welcome.sample_chosen.connect(lambda path: self.files.open_photo(path))
        self.welcome.open_requested.connect(lambda: self.files.open_photo())
        self.welcome.template_requested.connect(self.start_from_template)
        self.ab_strip.render_requested.connect(self._render_strip)
        self.ab_strip.set_class(self.tools.current_class)
        self.ab_strip.message.connect(self.show_error_status)
        self.resize(1560, 940)
        self._update_title()

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea | None) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title)
        dock.setWidget(widget)
        if area is not None:  # None: placed later by tabifying
            self.addDockWidget(area, dock)
        return dock

    # ---- jobs on the worker ------------------------------------------------------------------------
    def run_job(self, channel: str, key: Hashable, fn: Callable[[], Any], done: Callable[[JobResult], None],
                force: bool = True) -> int | None:
        stamp = self.worker.submit(key, fn, channel=channel, force=force)
        if stamp is not None:
            self._callbacks[stamp] = done
        return stamp

    def _on_job(self, result: JobResult) -> None:
        if result.channel == "render":
            self._on_render(result)
            return
        done = self._callbacks.pop(result.stamp, None)
        if done is not None:
            done(result)

    def _on_busy(self, busy: bool) -> None:
        self.result.set_busy(self.worker.is_busy("render"))

    # ---- the model -----------------------------------------------------------------------------------
    def load_model(self, path: Path) -> None:
        if self.services.load_editor is None:
            reason = self.services.missing.get("model (ca2sis.editor)", "the model code is not installed")
            self.first_run.set_problem(f"The model cannot run here: {reason}")
            return
        self.statusBar().showMessage(f"Loading {Path(path).name}…")
        self.device_label.setText("Loading model…")
        loader, device = self.services.load_editor, self.device
        self.run_job("model", ("model", str(path)), lambda: loader(Path(path), device), self._model_loaded)

    def register_model(self, path: Path) -> None:
        """Register weights in the user's models folder (the default from now on), then load them."""
        if self.services.register_model is None:
            self.load_model(path)
            return
        register = self.services.register_model
        self.statusBar().showMessage(f"Registering {Path(path).name} (checking and copying)…")

        def done(result: JobResult) -> None:
            if result.ok:
                self.statusBar().showMessage(f"Registered {Path(path).name} as the default model", 8000)
                self.load_model(result.value)
            else:
                self.first_run.set_problem(f"Could not register the weights: {result.error}")
                self.report_error("Could not register the weights", result.error or "")

        self.run_job("model", ("register", str(path)), lambda: register(Path(path)), done)

    def _model_loaded(self, result: JobResult) -> None:
        if not result.ok:
            self.device_label.setText("No model")
            self.first_run.set_problem(f"Could not load the model: {result.error}")
            self.report_error("Could not load the model", result.error or "")
            return
        self.set_editor(result.value)

    def set_editor(self, editor: Any) -> None:
        self.editor = editor
        self.bridge = RenderBridge(editor)
        self.device_label.setText(getattr(editor, "device_label", "?"))
        self.model_label.setText(getattr(editor, "model_name", ""))
        self.device_label.setToolTip("Where the model runs")
        self._show_pane()
        self.style_panel.set_random_available(bool(getattr(editor, "has_mapping", True)))
        self.ab_strip.set_random_available(bool(getattr(editor, "has_mapping", True)))
        self.worker.forget("render")
        self.fitting.refresh()
        self.statusBar().showMessage(f"Model {getattr(editor, 'model_name', '')} ready", 5000)
        self.schedule_render()

    def start_from_template(self) -> bool:
        """A new document on the template face mask (random styles), after offering to save changes."""
        try:
            mask = template_mask(self.doc.classes)
        except ValueError as exc:
            self.report_error("No template face", str(exc))
            return False
        if not self.files.maybe_keep_changes():
            return False
        self.doc.load_face(mask, None, TEMPLATE_NAME)
        return True

    def _show_pane(self) -> None:
        """The result pane: the model instructions without a model, the ways to start while the document
        is blank (rendering an empty mask gives a ghost of a face), else the rendered face."""
        pane = self.first_run if self.editor is None else self.welcome if is_blank(self.doc) else self.result
        if self.right.currentWidget() is not pane:
            self.right.setCurrentWidget(pane)

    # ---- rendering -------------------------------------------------------------------------------------
    def schedule_render(self, at_once: bool = False) -> None:
        """Render soon: at most every LIVE_INTERVAL_MS while a stroke runs, else once this burst of changes
        is over (``at_once``: now, for the end of a stroke, which interrupts that stroke's live preview)."""
        if self.bridge is None or is_blank(self.doc):
            return
        self.traces.changed()
        if self.doc.in_stroke:
            if not self._live_timer.isActive():
                self._live_timer.start()
        elif at_once:
            self._live_timer.stop()
            self._render_timer.stop()
            self.submit_render()
        else:
            self._live_timer.stop()  # the stroke is over: its final render replaces any live one
            self._render_timer.start()

    def submit_render(self, force: bool = False, live: bool = False) -> None:
        """Hand the document to the worker. ``live``: a preview while a stroke is still being painted;
        any later render makes such a preview stale, so it is interrupted rather than waited for."""
        if self.bridge is None:
            return
        plan, bridge = plan_for(self.doc), self.bridge
        stop = threading.Event() if live else None
        stamp = self.worker.submit(plan, lambda: bridge.render(plan, None if stop is None else stop.is_set),
                                   channel="render", force=force, stop=stop, interrupt=not live)
        self.traces.submitted(stamp)

    def _on_render(self, result: JobResult) -> None:
        if not result.ok:
            self.show_error_status(f"Rendering failed: {result.error}")
            return
        r = result.value
        self.traces.arrived(result.stamp, result.started, result.finished, r.timings)
        self.last_result = r
        cls = self.doc.attention_class
        label = "" if cls is None else self.doc.classes[cls].label
        self.result.set_result(r.image, r.attention if cls is not None else None, label)
        self.traces.converted()
        self.time_label.setText(f"{r.seconds * 1000:.0f} ms")
        self.time_label.setToolTip(", ".join(f"{k} {v * 1000:.0f} ms" for k, v in r.timings.items()))
        if r.warnings:
            self.statusBar().showMessage("⚠ " + "; ".join(r.warnings), 10000)
        self.rendered.emit()

    def _on_painted(self, when: float) -> None:
        trace = self.traces.painted(when)
        if trace is not None:
            self.time_label.setToolTip(trace.describe())
            self.displayed.emit(trace)

    def _render_strip(self, plans: list[RenderPlan]) -> None:
        if self.bridge is None:
            self.show_error_status("A/B strip: no model loaded")
            return
        bridge = self.bridge

        def job() -> list:
            return [bridge.render(p).image for p in plans]

        def done(result: JobResult) -> None:
            if result.ok:
                self.ab_strip.show_images(result.value)
            else:
                self.show_error_status(f"A/B strip failed: {result.error}")

        self.run_job("batch", tuple(plans), job, done)

    # ---- observers ---------------------------------------------------------------------------------------
    def _on_doc(self, event: str, payload: object) -> None:
        if event in ("mask", "replaced", "dirty") and self.editor is not None:
            self._show_pane()
        if event in ("mask", "setting", "replaced") or event == "view" and payload and payload[0] == "attention":
            self.schedule_render()
        if event == "replaced":
            self.result.set_before(self.doc.face)
            if self.doc.context is not None:
                for warning in self.doc.context.warnings:
                    self.statusBar().showMessage(warning, 10000)
        if event in ("dirty", "replaced"):
            self._update_title()

    def _on_tools(self, name: str) -> None:
        if name == "current_class":
            self.ab_strip.set_class(self.tools.current_class)
            if self.doc.attention_class is not None:
                self.doc.set_attention_class(self.tools.current_class)
        self.actions_.sync_tools()

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.doc.name}{' ●' if self.doc.dirty else ''} — CA2SIS Studio")

    # ---- messages ----------------------------------------------------------------------------------------
    def show_error_status(self, text: str) -> None:
        log.warning("%s", text)
        self.errors.append(text)
        self.statusBar().showMessage(f"⚠ {text}", 15000)

    def report_error(self, title: str, text: str) -> None:
        self.errors.append(f"{title}: {text}")
        log.error("%s: %s", title, text)
        if self.interactive:
            QMessageBox.critical(self, title, text)
            self.return_focus()
        else:
            self.statusBar().showMessage(f"⚠ {title}: {text}", 15000)

    def ask(self, title: str, text: str, default: bool = True) -> bool:
        if not self.interactive:
            return default
        buttons = QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
        answer = QMessageBox.question(self, title, text, buttons)
        self.return_focus()
        return answer == QMessageBox.StandardButton.Yes

    def return_focus(self) -> None:
        """After a dialog: this window active again, the canvas focused, so shortcuts work at once.
        Without a window manager that restores it (and with Qt's own file dialogs) no window is
        active once a dialog closes, and every shortcut is dead until the canvas is clicked."""
        self.activateWindow()
        self.raise_()
        self.canvas.setFocus(Qt.FocusReason.ActiveWindowFocusReason)

    # ---- window events ---------------------------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._docks_sized:  # dock sizes only stick once the window has its real size
            self._docks_sized = True
            QTimer.singleShot(0, self._size_docks)

    def _size_docks(self) -> None:
        h = self.height()
        self.resizeDocks([self.docks["ab"]], [max(150, h // 5)], Qt.Orientation.Vertical)
        self.resizeDocks([self.docks["styles"], self.docks["references"]], [h * 2 // 3, h // 4],
                         Qt.Orientation.Vertical)
        self.resizeDocks([self.docks["classes"], self.docks["styles"]], [270, 400], Qt.Orientation.Horizontal)

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.files.open_any(Path(url.toLocalFile()))
                break

    def closeEvent(self, event) -> None:  # noqa: N802
        if not self.files.maybe_keep_changes():
            event.ignore()
            return
        self.files.autosaver.discard_own()
        self.fitting.cancel()  # a running fit stops at its next step instead of outliving the window
        self.worker.shutdown()
        self.outline.shutdown()
        super().closeEvent(event)
