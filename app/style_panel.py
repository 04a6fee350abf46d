"""Per-class style sources: own / reference face / random, each with a blend slider α.

Drop a reference photo (or a face from the gallery) on a row to give that class the reference's
style; presets ("makeup", "hair only", "all"...) assign a reference to several classes at once.
"""

from __future__ import annotations

import dataclasses
import random

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.class_rows import AlphaSlider, ClassRow
from app.document import Document
from app.qt_util import add_reference_items, icon, scrolling_rows, signals_blocked
from ca2sis.requests import StyleSource


class StyleRow(ClassRow):
    def __init__(self, doc: Document, cls: int, parent: QWidget | None = None) -> None:
        super().__init__(doc.classes[cls], parent)
        self.doc = doc
        self.source = QComboBox()
        self.source.setMinimumContentsLength(9)
        self.source.setToolTip(f"Where the {doc.classes[cls].label.lower()} takes its style from")
        self.dice = QToolButton()
        self.dice.setIcon(icon("dice"))
        self.dice.setToolTip("A new random style for this class (D for the current class)")
        self.alpha = AlphaSlider()
        for w in (self.source, self.dice, self.alpha, self.alpha.value_label):
            self.layout_.addWidget(w)
        self.source.activated.connect(self._on_source)
        self.dice.clicked.connect(self.roll)
        self.alpha.alpha_changed.connect(self._on_alpha)
        self.alpha.released.connect(doc.history.seal)

    def rebuild(self) -> None:
        with signals_blocked(self.source):
            self.source.clear()
            self.source.addItem("Own" if self.doc.face is not None else "Own (random)", "own")
            self.source.addItem("Random", "random")
            add_reference_items(self.source, self.doc, "reference:")
        self.refresh()

    def refresh(self) -> None:
        style = self.doc.style_of(self.cls)
        wanted = f"reference:{style.reference}" if style.kind == "reference" else style.kind
        with signals_blocked(self.source):
            self.source.setCurrentIndex(max(0, self.source.findData(wanted)))
        self.alpha.set_alpha(style.alpha)
        self.alpha.setEnabled(style.kind != "own")
        self.dice.setDown(style.kind == "random")

    def _on_source(self, index: int) -> None:
        kind, _, key = self.source.itemData(index).partition(":")
        old = self.doc.style_of(self.cls)
        if kind == "own":
            self.doc.set_style(self.cls, None)
        elif kind == "random":
            self.doc.set_style(self.cls, StyleSource("random", seed=random.randrange(1 << 31), alpha=old.alpha))
        else:
            self.doc.set_style(self.cls, StyleSource("reference", key, alpha=old.alpha))

    def roll(self) -> None:
        old = self.doc.style_of(self.cls)
        alpha = old.alpha if old.kind == "random" else 1.0
        self.doc.set_style(self.cls, StyleSource("random", seed=random.randrange(1 << 31), alpha=alpha))

    def _on_alpha(self, alpha: float, merge_key: object) -> None:
        old = self.doc.style_of(self.cls)
        if old.kind != "own":
            self.doc.set_style(self.cls, dataclasses.replace(old, alpha=alpha), merge_key=("style", merge_key)
                               if merge_key is not None else None)


class StylePanel(QWidget):
    reference_dropped = Signal(int, object)  # forwarded from the rows: (class, ("file"|"reference", ...))

    def __init__(self, doc: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        top = QHBoxLayout()
        self.preset = QComboBox()
        for name in doc.classes.presets:
            self.preset.addItem(name.capitalize(), name)
        self.preset.setToolTip("Classes that a reference face styles at once")
        self.preset_ref = QComboBox()
        self.preset_ref.setToolTip("The reference face (or a random style) for the preset")
        apply = QPushButton("Apply")
        apply.setToolTip("Give the preset's classes this style")
        reset = QPushButton("Reset all")
        reset.setToolTip("Every class back to its own style")
        top.addWidget(QLabel("Preset"))
        top.addWidget(self.preset, 1)
        top.addWidget(self.preset_ref, 1)
        top.addWidget(apply)
        top.addWidget(reset)
        layout.addLayout(top)
        hint = QLabel("Drop a photo or a gallery face on a row (or on that region of the canvas).")
        hint.setWordWrap(True)
        hint.setEnabled(False)
        layout.addWidget(hint)
        self.rows = [StyleRow(doc, c.id) for c in doc.classes]
        for row in self.rows:
            row.dropped.connect(self.reference_dropped)
        layout.addWidget(scrolling_rows(self.rows), 1)
        apply.clicked.connect(self.apply_preset)
        reset.clicked.connect(self.reset_all)
        doc.subscribe(self._on_doc)
        self.rebuild()

    def set_random_available(self, available: bool) -> None:
        """Models without a trained mapping network cannot draw random styles."""
        tip = "A new random style for this class (D for the current class)" if available else \
            "This model has no trained mapping network: random styles are unavailable"
        for row in self.rows:
            row.dice.setEnabled(available)
            row.dice.setToolTip(tip)

    def rebuild(self) -> None:
        for row in self.rows:
            row.rebuild()
        with signals_blocked(self.preset_ref):
            current = self.preset_ref.currentData()
            self.preset_ref.clear()
            self.preset_ref.addItem("Random", "random")
            add_reference_items(self.preset_ref, self.doc, "reference:")
            index = self.preset_ref.findData(current)
            self.preset_ref.setCurrentIndex(index if index >= 0 else self.preset_ref.count() - 1)

    def _on_doc(self, event: str, payload: object) -> None:
        if event in ("references", "replaced"):
            self.rebuild()
        elif event == "setting" and payload[0] == "style":
            self.rows[payload[1]].refresh()

    def apply_preset(self) -> None:
        classes = self.doc.classes.presets[self.preset.currentData()]
        kind, _, key = (self.preset_ref.currentData() or "random").partition(":")
        seed = random.randrange(1 << 31)
        source = StyleSource("reference", key) if kind == "reference" else StyleSource("random", seed=seed)
        label = f"Style preset {self.preset.currentText()}"
        self.doc.change_settings({("style", c): source for c in classes}, label)

    def reset_all(self) -> None:
        self.doc.change_settings({("style", c): None for c in list(self.doc.styles)}, "Reset styles")
