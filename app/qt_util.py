"""Small Qt utilities shared by the widgets: arrays ↔ images, icons, shortcuts, blocked signals."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QSize, Qt
from PySide6.QtGui import QAction, QColor, QIcon, QImage, QKeySequence, QPainter, QPixmap
from PySide6.QtWidgets import QComboBox, QScrollArea, QVBoxLayout, QWidget

if TYPE_CHECKING:
    from app.document import Document

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"


def to_qimage(rgb: np.ndarray) -> QImage:
    """An owned QImage copy of an H×W×3 uint8 array (the array may be freed afterwards).

    Colour images come back as RGB32, the format Qt draws directly: a scaled RGB888 image is converted
    on every paint, which made each repaint of a 512² picture about ten times slower.
    """
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = rgb.shape[:2]
    if rgb.ndim == 2:
        return QImage(rgb.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).convertToFormat(QImage.Format.Format_RGB32)


def short_name(name: str, width: int = 20) -> str:
    """A file name that fits a narrow list: long stems lose their middle, the start and suffix stay
    (``25b04011e2…1b9d.jpg``), so a hash-like name still reads as the file it is."""
    if len(name) <= width:
        return name
    stem, dot, suffix = name.rpartition(".")
    if not dot or len(suffix) > 5:
        stem, suffix = name, ""
    keep = max(4, width - len(suffix) - 2)  # characters of the stem that stay: two thirds from its start
    head = keep * 2 // 3
    return f"{stem[:head]}…{stem[head - keep:]}" + (f".{suffix}" if suffix else "")


def add_reference_items(combo: QComboBox, doc: Document, prefix: str = "") -> None:
    """The document's reference faces as entries of a source list: the file name, shortened to fit,
    the whole name in the entry's tooltip, ``prefix + key`` as the entry's data."""
    for ref in doc.references.values():
        combo.addItem(short_name(ref.name), f"{prefix}{ref.key}" if prefix else ref.key)
        combo.setItemData(combo.count() - 1, ref.name, Qt.ItemDataRole.ToolTipRole)


def from_qimage(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h = image.width(), image.height()
    buf = np.frombuffer(image.constBits(), np.uint8, count=image.bytesPerLine() * h)
    return buf.reshape(h, image.bytesPerLine())[:, : 3 * w].reshape(h, w, 3).copy()


def thumbnail(rgb: np.ndarray, size: int = 96) -> QPixmap:
    return QPixmap.fromImage(to_qimage(rgb)).scaled(
        size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )


def swatch(color: tuple[int, int, int], size: int = 14) -> QIcon:
    pix = QPixmap(QSize(size, size))
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QColor(128, 128, 128))
    p.setBrush(QColor(*color))
    p.drawRoundedRect(1, 1, size - 2, size - 2, 3, 3)
    p.end()
    return QIcon(pix)


def icon(name: str) -> QIcon:
    path = ICONS / f"{name}.svg"
    return QIcon(str(path)) if path.is_file() else QIcon()


def class_key(shortcut: str) -> QKeySequence:
    """The class table writes Shift+E as "E"; Qt key sequences are case-blind, so spell Shift out."""
    if len(shortcut) == 1 and shortcut.isalpha() and shortcut.isupper():
        return QKeySequence(f"Shift+{shortcut}")
    return QKeySequence(shortcut)


def make_action(
    parent: QObject, text: str, shortcut: str | QKeySequence | QKeySequence.StandardKey | None = None,
    tip: str = "", icon_name: str = "", checkable: bool = False,
) -> QAction:
    """An action whose tooltip shows its shortcut, as every frequent action's should."""
    action = QAction(text, parent)
    if shortcut:
        action.setShortcut(QKeySequence(shortcut))
    if icon_name:
        action.setIcon(icon(icon_name))
    action.setCheckable(checkable)
    keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    label = text.replace("&", "").rstrip(".…")
    action.setToolTip(f"{tip or label} ({keys})" if keys else tip or label)
    action.setStatusTip(tip or label)
    return action


@contextmanager
def signals_blocked(*objects: QObject) -> Iterator[None]:
    """Update widgets from the model without their signals writing back into the model."""
    previous = [o.blockSignals(True) for o in objects]
    try:
        yield
    finally:
        for o, was in zip(objects, previous, strict=True):
            o.blockSignals(was)


def heat_rgb(values: np.ndarray) -> np.ndarray:
    """A perceptual-ish heat colour ramp (black → red → yellow → white) for attention maps in [0, 1]."""
    v = np.clip(values.astype(np.float32), 0.0, 1.0)
    r = np.clip(v * 3.0, 0, 1)
    g = np.clip(v * 3.0 - 1.0, 0, 1)
    b = np.clip(v * 3.0 - 2.0, 0, 1)
    return (np.stack([r, g, b], axis=-1) * 255).astype(np.uint8)


def scrolling_rows(rows: list[QWidget]) -> QScrollArea:
    """The per-class rows of a panel, stacked tightly in a vertical scroll area."""
    inner = QWidget()
    column = QVBoxLayout(inner)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(0)
    for row in rows:
        column.addWidget(row)
    column.addStretch(1)
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setWidget(inner)
    return scroll
