"""Menus, toolbar and keyboard shortcuts of the main window.

Every frequent action has a shortcut, shown in its menu entry and its tooltip (see
:func:`app.qt_util.make_action`). F1 lists them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QComboBox, QFileDialog, QLabel, QMessageBox, QSlider, QSpinBox, QToolBar

from app.dialogs import ShortcutSheet
from app.first_run import weights_filter
from app.qt_util import class_key, make_action, signals_blocked, swatch
from app.tools import ERASER_MODES, TOOLS
from ca2sis.paths import PROJECT_ROOT

if TYPE_CHECKING:
    from app.main_window import MainWindow


SAMPLES = PROJECT_ROOT / "resources" / "samples"


def sample_portraits(folder: Path = SAMPLES) -> list[Path]:
    """The bundled sample faces (``<name>.png`` beside its ``<name>_mask.png``)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.png") if not p.stem.endswith("_mask"))


@dataclass
class Actions:
    win: MainWindow
    tools: dict[str, QAction] = field(default_factory=dict)
    all: list[QAction] = field(default_factory=list)
    before_after: QAction | None = None
    attention: QAction | None = None
    animations: dict[str, QAction] = field(default_factory=dict)  # "style", "shape", "whole"
    undo: QAction | None = None
    redo: QAction | None = None
    size_box: QSpinBox | None = None
    eraser_box: QComboBox | None = None
    opacity: QSlider | None = None

    def sync_view(self) -> None:
        """Toggles that mirror document state (a loaded project brings its attention overlay with it)."""
        self.attention.setChecked(self.win.doc.attention_class is not None)

    def sync_animations(self) -> None:
        """An animation needs something to sweep: a class left at its own style (or shape) has nothing,
        so its export is disabled and its tooltip says what to do instead of an error afterwards."""
        doc, cls = self.win.doc, self.win.tools.current_class
        label = doc.classes[cls].label
        reasons = {
            "style": "" if doc.style_of(cls).kind != "own" else
            f"{label} has its own style: give it a reference or random style in the Styles panel first",
            "shape": "" if cls in doc.shapes else
            f"{label} keeps its own shape: choose a face to morph toward in the Shapes panel first",
            "whole": "" if doc.shape_all is not None else
            "The whole face keeps its own shape: choose a face for “Whole face” in the Shapes panel first",
        }
        for kind, action in self.animations.items():
            action.setEnabled(not reasons[kind])
            action.setToolTip(reasons[kind] or action.statusTip())

    def sync_tools(self) -> None:
        t = self.win.tools
        self.tools[t.tool].setChecked(True)
        with signals_blocked(self.size_box, self.eraser_box, self.opacity):
            self.size_box.setValue(t.brush_size)
            self.eraser_box.setCurrentIndex(list(ERASER_MODES).index(t.eraser_mode))
            self.opacity.setValue(round(t.opacity * 100))
        self.sync_animations()

    def sync_history(self) -> None:
        h = self.win.doc.history
        self.undo.setEnabled(h.can_undo)
        self.redo.setEnabled(h.can_redo)
        self.undo.setText(f"&Undo {h.undo_label}".rstrip())
        self.redo.setText(f"&Redo {h.redo_label}".rstrip())


def install_actions(win: MainWindow) -> Actions:
    acts = Actions(win)
    files, doc, tools, canvas = win.files, win.doc, win.tools, win.canvas
    menu = win.menuBar()

    def add(m, text, shortcut, slot, tip="", icon_name="", checkable=False) -> QAction:
        action = make_action(win, text, shortcut, tip, icon_name, checkable)
        action.triggered.connect(slot)
        m.addAction(action)
        acts.all.append(action)
        return action

    def choose_weights(register: bool = False) -> None:
        title = "Register model weights (copied to your models folder)" if register else "Load model weights"
        path, _ = QFileDialog.getOpenFileName(win, title, "", weights_filter())
        win.return_focus()
        if path:
            (win.register_model if register else win.load_model)(Path(path))

    f = menu.addMenu("&File")
    f.setToolTipsVisible(True)  # disabled exports say why
    add(f, "&New From Template Face", "Ctrl+N", win.start_from_template,
        "Start over on a mean face mask with random styles")
    add(f, "&Open Photo…", "Ctrl+O", lambda: files.open_photo(), "Open a portrait: detect, align and parse it",
        "open")
    add(f, "Open &Mask…", "Ctrl+M", lambda: files.open_mask(), "Open an index or colour mask PNG")
    add(f, "Open &Project…", "Ctrl+Shift+O", lambda: files.open_project(), "Open a .ca2sis project")
    samples = f.addMenu("Open &Sample")
    for i, sample in enumerate(sample_portraits()):
        add(samples, sample.stem.replace("-", " ").capitalize(), f"Ctrl+Alt+{i + 1}" if i < 9 else "",
            lambda _=False, path=sample: files.open_photo(path), f"Open the sample portrait {sample.name}")
    samples.setEnabled(bool(samples.actions()))
    add(f, "Add &Reference Face…", "Ctrl+R", lambda: files.add_reference(), "Open a photo as a style/shape reference")
    f.addSeparator()
    add(f, "&Save Project", QKeySequence.StandardKey.Save, lambda: files.save(), "Save the project", "save")
    add(f, "Save Project &As…", "Ctrl+Shift+S", lambda: files.save(save_as=True))
    f.addSeparator()
    add(f, "&Export Image…", "Ctrl+E", lambda: files.export_image(), "Save the generated face")
    add(f, "Export Mas&k…", "Ctrl+Shift+E", lambda: files.export_mask(), "Save the mask as index and colour PNGs")
    add(f, "Export Into &Photo…", "Ctrl+Alt+E", lambda: files.export_pasted(),
        "Paste the generated face back into the full photo")
    acts.animations["style"] = add(f, "Export Style &Animation…", "Ctrl+G",
                                   lambda: files.export_animation(kind="style"),
                                   "GIF/MP4 of the current class's style blend from α 0 to 1")
    acts.animations["shape"] = add(f, "Export Shape A&nimation…", "Ctrl+Shift+G",
                                   lambda: files.export_animation(kind="shape"),
                                   "GIF/MP4 of the current class's shape morph")
    acts.animations["whole"] = add(f, "Export Whole-Face Shape Animation…", "",
                                   lambda: files.export_animation(kind="shape", cls=None),
                                   "GIF/MP4 of the whole face's shape morph")
    f.addSeparator()
    add(f, "&Load Model Weights…", "Ctrl+L", lambda: choose_weights(), "Use a weights file until the editor closes")
    add(f, "Re&gister Model Weights…", "", lambda: choose_weights(register=True),
        "Copy a weights file into your models folder and make it the default")
    f.addSeparator()
    add(f, "&Quit", QKeySequence.StandardKey.Quit, win.close)

    e = menu.addMenu("&Edit")
    acts.undo = add(e, "&Undo", QKeySequence.StandardKey.Undo, doc.undo, "Undo the last edit", "undo")
    acts.redo = add(e, "&Redo", "Ctrl+Shift+Z", doc.redo, "Redo", "redo")
    acts.redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    e.addSeparator()
    add(e, "Render &Now", "F5", lambda: win.submit_render(force=True), "Render again even if nothing changed")
    add(e, "Apply Shapes to &Mask", "Ctrl+Shift+M", win.shape_panel.apply_to_mask,
        "Bake the shape sliders into the painted mask")
    add(e, "Cancel Stroke", "Esc", canvas.abort)

    t = menu.addMenu("&Tools")
    group = QActionGroup(win)
    for tool in TOOLS:
        action = add(t, tool.label, tool.shortcut, lambda _=False, n=tool.name: setattr(tools, "tool", n), tool.tip,
                     tool.icon, checkable=True)
        group.addAction(action)
        acts.tools[tool.name] = action
    t.addSeparator()
    add(t, "Toggle Eraser Mode", "Shift+X",
        lambda: setattr(tools, "eraser_mode", "underneath" if tools.eraser_mode == "background" else "background"),
        "Switch the eraser between background and the class underneath")
    add(t, "Bigger Brush", "]", lambda: tools.grow_brush(+1))
    add(t, "Smaller Brush", "[", lambda: tools.grow_brush(-1))
    classes = t.addMenu("Current &Class")
    for c in doc.classes:
        action = make_action(win, c.label, class_key(c.shortcut) if c.shortcut else None, f"Paint {c.label}")
        action.setIcon(swatch(c.color))
        action.triggered.connect(lambda _=False, i=c.id: setattr(tools, "current_class", i))
        classes.addAction(action)
        win.addAction(action)  # shortcuts work even with the menu closed
        acts.all.append(action)

    v = menu.addMenu("&View")
    add(v, "Zoom &In", QKeySequence.StandardKey.ZoomIn, lambda: canvas.zoom(1.25))
    add(v, "Zoom &Out", QKeySequence.StandardKey.ZoomOut, lambda: canvas.zoom(0.8))
    add(v, "&Fit", "Ctrl+0", canvas.fit)
    v.addSeparator()
    acts.before_after = add(v, "&Before / After", "\\", lambda on: win.result.set_show_before(on),
                            "Show the original face instead of the result", "compare", checkable=True)
    acts.attention = add(v, "Class &Attention Map", "Alt+A",
                         lambda on: doc.set_attention_class(tools.current_class if on else None),
                         "Where the current class's style acts (cross-attention heat map)", "attention", checkable=True)
    add(v, "Mask More Opaque", ".", lambda: setattr(tools, "opacity", tools.opacity + 0.1))
    add(v, "Mask More Transparent", ",", lambda: setattr(tools, "opacity", tools.opacity - 0.1))
    v.addSeparator()
    for dock in win.docks.values():
        v.addAction(dock.toggleViewAction())

    s = menu.addMenu("&Style")
    def roll() -> None:
        row = win.style_panel.rows[tools.current_class]
        if row.dice.isEnabled():
            row.roll()
        else:
            win.show_error_status(row.dice.toolTip())

    add(s, "&Random Style for Current Class", "D", roll, "Roll the dice for the current class", "dice")
    add(s, "&Own Style for Current Class", "Shift+D", lambda: doc.set_style(tools.current_class, None))
    add(s, "&A/B Strip for Current Class", "Ctrl+B", lambda: (win.docks["ab"].show(), win.ab_strip.request()),
        "Render variants of the current class side by side")

    h = menu.addMenu("&Help")
    add(h, "&Keyboard Shortcuts", "F1", lambda: (ShortcutSheet(acts.all, win).exec(), win.return_focus()))
    add(h, "&About", "", lambda: (QMessageBox.about(
        win, "CA2SIS Studio", "Face editing with (CA)²-SIS class-adaptive cross-attention semantic image synthesis."),
        win.return_focus()))

    bar = QToolBar("Tools", win)
    bar.setObjectName("tools")
    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
    for action in acts.tools.values():
        bar.addAction(action)
    bar.addSeparator()
    bar.addWidget(QLabel(" Size "))
    acts.size_box = QSpinBox()
    acts.size_box.setRange(1, 200)
    acts.size_box.setToolTip("Brush diameter in mask pixels ([ and ])")
    acts.size_box.valueChanged.connect(lambda v: setattr(tools, "brush_size", v))
    bar.addWidget(acts.size_box)
    bar.addWidget(QLabel(" Eraser "))
    acts.eraser_box = QComboBox()
    acts.eraser_box.addItems(list(ERASER_MODES.values()))
    acts.eraser_box.setToolTip("What the eraser paints (Shift+X)")
    acts.eraser_box.currentIndexChanged.connect(lambda i: setattr(tools, "eraser_mode", list(ERASER_MODES)[i]))
    bar.addWidget(acts.eraser_box)
    bar.addWidget(QLabel(" Mask opacity "))
    acts.opacity = QSlider(Qt.Orientation.Horizontal)
    acts.opacity.setRange(0, 100)
    acts.opacity.setMaximumWidth(120)
    acts.opacity.setToolTip("Opacity of the mask over the photo (, and .)")
    acts.opacity.valueChanged.connect(lambda v: setattr(tools, "opacity", v / 100))
    bar.addWidget(acts.opacity)
    bar.addSeparator()
    for action in (acts.undo, acts.redo, acts.before_after, acts.attention):
        bar.addAction(action)
    win.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
    win.first_run.choose_weights.connect(lambda: choose_weights(register=True))

    doc.history.on_change.append(acts.sync_history)

    def on_doc(event: str, payload: object) -> None:
        if event == "replaced" or event == "view" and payload and payload[0] == "attention":
            acts.sync_view()
        if event in ("setting", "replaced"):
            acts.sync_animations()

    doc.subscribe(on_doc)
    acts.sync_tools()
    acts.sync_history()
    return acts
