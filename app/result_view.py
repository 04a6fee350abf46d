"""The generated face, with a before/after toggle and the attention heat overlay."""

from __future__ import annotations

import time

import numpy as np
from PIL import Image
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import QWidget

from app.qt_util import heat_rgb, to_qimage


class ResultView(QWidget):
    painted = Signal(float)  # time.perf_counter() at the end of the first paint of a new result

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(320, 320)
        self.result: np.ndarray | None = None
        self.before: np.ndarray | None = None
        self.attention: np.ndarray | None = None
        self.attention_label = ""
        self.show_before = False
        self.busy = False
        self.message = "No result yet"
        self._image = QImage()
        self._fresh = False  # a new result waits for its first paint

    def set_result(self, image: np.ndarray | None, attention: np.ndarray | None = None, label: str = "") -> None:
        self.result = image
        self.attention = attention
        self.attention_label = label
        self.message = "" if image is not None else self.message
        self._fresh = image is not None
        self._refresh()

    def set_before(self, image: np.ndarray | None) -> None:
        self.before = image
        self._refresh()

    def set_show_before(self, on: bool) -> None:
        self.show_before = on
        self._refresh()

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.update()

    def set_message(self, text: str) -> None:
        self.message = text
        self.update()

    def shown_image(self) -> np.ndarray | None:
        """What is on screen: the photo (before) or the result, with the heat overlay when asked."""
        if self.show_before:
            return self.before
        if self.result is None:
            return None
        if self.attention is None:
            return self.result
        h, w = self.result.shape[:2]
        # Softmax weights over 19 classes are small; scaled to the map's peak the pattern is readable.
        att = self.attention / max(float(self.attention.max()), 1e-6)
        if att.shape != (h, w):
            att = np.asarray(Image.fromarray((att * 255).astype(np.uint8)).resize((w, h), Image.Resampling.BILINEAR))
            att = att.astype(np.float32) / 255.0
        a = (0.1 + 0.55 * att)[..., None]  # the face stays readable under the heat
        return (self.result * (1 - a) + heat_rgb(att) * a).astype(np.uint8)

    def _refresh(self) -> None:
        image = self.shown_image()
        self._image = QImage() if image is None else to_qimage(image)
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().window().color().darker(115))
        if not self._image.isNull():
            w, h = self._image.width(), self._image.height()
            s = min(self.width() / w, self.height() / h) * 0.98
            target = QRectF((self.width() - w * s) / 2, (self.height() - h * s) / 2, w * s, h * s)
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            p.drawImage(target, self._image)
        caption = "Before" if self.show_before else (f"Attention: {self.attention_label}" if self.attention is not None
                                                      else "")
        if self.busy:
            caption = f"{caption}  ·  rendering…" if caption else "Rendering…"
        if self._image.isNull() and self.message:
            caption = self.message
        if caption:
            font = QFont(self.font())
            font.setPointSizeF(font.pointSizeF() * 1.05)
            p.setFont(font)
            metrics = p.fontMetrics()
            rect = metrics.boundingRect(caption).adjusted(-8, -4, 8, 4)
            rect.moveTopLeft(self.rect().topLeft() + self.rect().topLeft().__class__(10, 10))
            p.setBrush(QColor(0, 0, 0, 150))
            p.setPen(Qt.PenStyle.NoPen)
            p.drawRoundedRect(rect, 6, 6)
            p.setPen(QColor(255, 255, 255))
            p.drawText(rect, Qt.AlignmentFlag.AlignCenter, caption)
        p.end()
        if self._fresh:
            self._fresh = False
            self.painted.emit(time.perf_counter())
