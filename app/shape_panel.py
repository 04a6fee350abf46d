"""Shape sliders: morph a class (or the whole face) toward a reference face's shape.

The model interpolates the shape codes, so the rendering morphs live while the painted mask stays as
it is. "Apply to mask" bakes the current morphs into the mask (signed-distance interpolation between
the painted region and the reference's region, see :mod:`app.shape_morph`) as one undo step, and
clears the sliders it baked.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.class_rows import AlphaSlider, ClassRow
from app.document import Document
from app.qt_util import add_reference_items, scrolling_rows, signals_blocked
from app.shape_morph import morph_layout
from ca2sis.requests import ShapeSource


def _fill_reference_combo(combo: QComboBox, doc: Document) -> None:
    combo.clear()
    combo.addItem("Own shape", None)
    add_reference_items(combo, doc)


class ShapeRow(ClassRow):
    def __init__(self, doc: Document, cls: int | None, parent: QWidget | None = None) -> None:
        if cls is None:  # the whole-face row borrows the background's swatch slot
            super().__init__(dataclasses.replace(doc.classes[0], label="Whole face", color=(128, 128, 128)), parent)
        else:
            super().__init__(doc.classes[cls], parent)
        self.doc = doc
        self.key = ("shape_all", None) if cls is None else ("shape", cls)
        self.source = QComboBox()
        self.source.setMinimumContentsLength(9)
        self.source.setToolTip("The face whose shape this morphs toward")
        self.alpha = AlphaSlider()
        self.layout_.addWidget(self.source)
        self.layout_.addWidget(self.alpha)
        self.layout_.addWidget(self.alpha.value_label)
        self.source.activated.connect(self._on_source)
        self.alpha.alpha_changed.connect(self._on_alpha)
        self.alpha.released.connect(doc.history.seal)

    def current(self) -> ShapeSource | None:
        return self.doc.setting(self.key)

    def _set(self, source: ShapeSource | None, merge_key: object = None) -> None:
        label = "Whole-face shape" if self.key[1] is None else f"Shape of {self.doc.classes[self.key[1]].label}"
        self.doc.change_settings({self.key: source}, label, merge_key)

    def rebuild(self) -> None:
        with signals_blocked(self.source):
            _fill_reference_combo(self.source, self.doc)
        self.refresh()

    def refresh(self) -> None:
        cur = self.current()
        with signals_blocked(self.source):
            index = self.source.findData(None if cur is None else cur.reference)
            self.source.setCurrentIndex(max(0, index))
        self.alpha.set_alpha(0.5 if cur is None else cur.alpha)
        self.alpha.setEnabled(cur is not None)

    def _on_source(self, index: int) -> None:
        key = self.source.itemData(index)
        old = self.current()
        self._set(None if key is None else ShapeSource(key, 0.5 if old is None else old.alpha))

    def _on_alpha(self, alpha: float, merge_key: object) -> None:
        old = self.current()
        if old is not None:
            self._set(dataclasses.replace(old, alpha=alpha), None if merge_key is None else ("shape", merge_key))


class ShapePanel(QWidget):
    def __init__(self, doc: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        top = QHBoxLayout()
        self.apply_button = QPushButton("Apply to mask")
        self.apply_button.setToolTip("Bake the shape morphs into the painted mask (one undo step)")
        top.addWidget(QLabel("Morph shapes toward a reference face"), 1)
        top.addWidget(self.apply_button)
        layout.addLayout(top)
        self.whole = ShapeRow(doc, None)
        layout.addWidget(self.whole)
        self.rows = [ShapeRow(doc, c.id) for c in doc.classes]
        layout.addWidget(scrolling_rows(self.rows), 1)
        self.apply_button.clicked.connect(self.apply_to_mask)
        doc.subscribe(self._on_doc)
        self.rebuild()

    def rebuild(self) -> None:
        for row in [self.whole, *self.rows]:
            row.rebuild()
        self.apply_button.setEnabled(bool(self.doc.shapes) or self.doc.shape_all is not None)

    def _on_doc(self, event: str, payload: object) -> None:
        if event in ("references", "replaced"):
            self.rebuild()
        elif event == "setting" and payload[0] in ("shape", "shape_all"):
            (self.whole if payload[0] == "shape_all" else self.rows[payload[1]]).refresh()
            self.apply_button.setEnabled(bool(self.doc.shapes) or self.doc.shape_all is not None)

    def apply_to_mask(self) -> bool:
        """Bake every active shape morph into the mask; returns whether the mask changed."""
        doc = self.doc
        references = {key: ref.mask for key, ref in doc.references.items()}
        mask = morph_layout(doc.mask, references, doc.shapes, doc.shape_all, len(doc.classes), doc.locked)
        cleared = {("shape", c): None for c in doc.shapes}
        cleared[("shape_all", None)] = None
        return doc.bake_mask(mask, cleared, "Apply shapes to mask")
