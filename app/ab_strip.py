"""The A/B strip: N variants of one class side by side (random styles, or α steps); click to keep one."""

from __future__ import annotations

import dataclasses
import random

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.document import Document, SettingKey
from app.qt_util import swatch, thumbnail
from app.render_bridge import RenderPlan, plan_for
from ca2sis.requests import ShapeSource, StyleSource

TILE = 112  # px, one variant's thumbnail
MODES = {"random": "Random styles", "style": "Style α steps", "shape": "Shape α steps"}


Tile = tuple[SettingKey, object, str]


def variants(doc: Document, cls: int, mode: str, n: int, rng: random.Random | None = None) -> list[Tile]:
    """The settings to compare: (setting key, value, caption) for each tile.

    α steps need a source to step toward: the class's reference/random style, or its shape reference
    (else the first reference face). Raises ValueError with the reason when there is none.
    """
    rng = rng or random.Random()
    if mode == "random":
        return [(("style", cls), StyleSource("random", seed=rng.randrange(1 << 31)), f"seed {i + 1}") for i in range(n)]
    alphas = np.linspace(0.0, 1.0, n)
    if mode == "style":
        base = doc.style_of(cls)
        if base.kind == "own":
            if not doc.references:
                raise ValueError("give this class a reference or random style first (or add a reference face)")
            base = StyleSource("reference", next(iter(doc.references)))
        return [(("style", cls), dataclasses.replace(base, alpha=float(a)), f"α {a:.2f}") for a in alphas]
    if mode == "shape":
        shape = doc.shapes.get(cls)
        if shape is None:
            if not doc.references:
                raise ValueError("add a reference face to morph shapes toward")
            shape = ShapeSource(next(iter(doc.references)))
        return [(("shape", cls), dataclasses.replace(shape, alpha=float(a)), f"α {a:.2f}") for a in alphas]
    raise ValueError(f"unknown comparison mode {mode!r}")


def plans_for(doc: Document, tiles: list[tuple[SettingKey, object, str]]) -> list[RenderPlan]:
    plans = []
    for (kind, cls), value, _ in tiles:
        if kind == "style":
            plans.append(plan_for(doc, styles={cls: value}, attention=False))
        else:
            plans.append(plan_for(doc, shapes={cls: value}, attention=False))
    return plans


class ABStrip(QWidget):
    render_requested = Signal(list)  # list[RenderPlan]; the window renders them and calls show_images
    message = Signal(str)

    def __init__(self, doc: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.tiles: list[tuple[SettingKey, object, str]] = []
        self.cls = QComboBox()
        for c in doc.classes:
            self.cls.addItem(swatch(c.color), c.label, c.id)
        self.mode = QComboBox()
        for key, label in MODES.items():
            self.mode.addItem(label, key)
        self.count = QSpinBox()
        self.count.setRange(2, 12)
        self.count.setValue(6)
        self.go = QPushButton("Render strip")
        self.go.setToolTip("Render the variants side by side (Ctrl+B)")
        self.list = QListWidget()
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setFlow(QListWidget.Flow.LeftToRight)
        self.list.setWrapping(False)
        self.list.setIconSize(QSize(TILE, TILE))
        self.list.setGridSize(QSize(TILE + 14, TILE + 30))
        self.list.setMovement(QListWidget.Movement.Static)
        self.list.setMinimumHeight(TILE + 36)
        self.list.setToolTip("Click a variant to keep it (undoable)")
        top = QHBoxLayout()
        for w in (QLabel("Class"), self.cls, self.mode, QLabel("N"), self.count, self.go):
            top.addWidget(w)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.list, 1)
        self.go.clicked.connect(self.request)
        self.list.itemClicked.connect(self._pick)

    def set_random_available(self, available: bool) -> None:
        """Random styles need a trained mapping network; without one only α steps are offered."""
        index = self.mode.findData("random")
        self.mode.model().item(index).setEnabled(available)
        if not available and self.mode.currentData() == "random":
            self.mode.setCurrentIndex(self.mode.findData("style"))

    def set_class(self, cls: int) -> None:
        self.cls.setCurrentIndex(cls)

    def request(self) -> None:
        try:
            self.tiles = variants(self.doc, self.cls.currentData(), self.mode.currentData(), self.count.value())
        except ValueError as exc:
            self.message.emit(f"A/B strip: {exc}")
            return
        self.list.clear()
        placeholder = QPixmap(TILE, TILE)  # the tiles keep their size while the renders come in
        placeholder.fill(self.palette().mid().color())
        for _, _, caption in self.tiles:
            item = QListWidgetItem(QIcon(placeholder), caption)
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter)
            self.list.addItem(item)
        self.render_requested.emit(plans_for(self.doc, self.tiles))

    def show_images(self, images: list[np.ndarray]) -> None:
        for i, image in enumerate(images[: self.list.count()]):
            self.list.item(i).setIcon(QIcon(thumbnail(image, TILE)))
        self.list.doItemsLayout()

    def _pick(self, item: QListWidgetItem) -> None:
        row = self.list.row(item)
        if 0 <= row < len(self.tiles):
            key, value, caption = self.tiles[row]
            self.doc.change_settings({key: value}, f"Pick {caption} for {self.doc.classes[key[1]].label}")
