"""The mask canvas: the class map over the photo, painted with the mouse.

Mouse gestures follow a stroke lifecycle: press begins a stroke in the document, moves extend it,
release commits it (one undo step), Esc aborts it. What is shown is the photo with the class colours
over it: the colours are an image of their own, one lookup per pixel in a table of per-class
premultiplied colours (a hidden class's entry is transparent), and Qt blends the two when it paints.
A stroke rewrites only the colours inside the box it touched and repaints only those widget pixels,
so painting stays smooth on large masks.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QCursor, QImage, QMouseEvent, QPainter, QPainterPath, QPen, QWheelEvent
from PySide6.QtWidgets import QWidget

from app import mask_ops
from app.document import Document
from app.qt_util import to_qimage
from app.tools import ToolState

REFERENCE_MIME = "application/x-ca2sis-reference"


def overlay_lut(palette: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Per class, its colour at its opacity as one premultiplied ARGB32 word (``alpha`` 0: transparent)."""
    a = np.round(np.clip(alpha, 0.0, 1.0) * 255).astype(np.uint32)
    rgb = (palette.astype(np.uint32) * a[:, None] + 127) // 255
    return (a << 24) | (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]


class MaskCanvas(QWidget):
    stroke_extended = Signal()  # the mask changed inside a running stroke (throttled live render)
    stroke_finished = Signal()
    class_picked = Signal(int)
    reference_dropped = Signal(int, object)  # class under the drop, ("file", path) or ("reference", key)
    view_changed = Signal()
    hovered = Signal(str)  # "x, y · class" under the cursor, "" when outside the mask

    def __init__(self, doc: Document, tools: ToolState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.tools = tools
        self.setMouseTracking(True)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(320, 320)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self._face = QImage()  # the photo (none: a flat grey)
        self._words = np.zeros((1, 1), np.uint32)  # the class colours, premultiplied ARGB32 per pixel…
        self._image = QImage()  # …shown by this image, which shares their memory
        self._lut = np.zeros(1, np.uint32)
        self._scale = 1.0
        self._offset = QPointF(0, 0)
        self._fit = True  # refit on resize until the user zooms or pans
        self._mouse: QPointF | None = None
        self._last_point: tuple[float, float] | None = None
        self._drag_start: QPointF | None = None  # rectangle anchor (image coords)
        self._lasso: list[tuple[float, float]] = []
        self._panning: QPointF | None = None
        self._space = False
        self._pending_box: mask_ops.Box | None = None
        self._outline = QImage()  # where the shape morphs lead (app.shape_preview), drawn over the mask
        self._refresh_timer = QTimer(self, singleShot=True, interval=0)
        self._refresh_timer.timeout.connect(self._flush)
        doc.subscribe(self._on_doc)
        tools.changed.connect(self._on_tools)
        self.rebuild()

    # ---- model → view ----------------------------------------------------------------------------
    def _alpha(self) -> np.ndarray:
        alpha = np.full(len(self.doc.classes), self.tools.opacity, np.float32)
        for cls in self.doc.hidden:
            alpha[cls] = 0.0
        return alpha

    def rebuild(self) -> None:
        self._face = QImage() if self.doc.face is None else to_qimage(self.doc.face)
        self._rebuild_colours()
        if self._fit:
            self.fit()

    def _rebuild_colours(self) -> None:
        self._lut = overlay_lut(self.doc.classes.palette(), self._alpha())
        words = self._lut[self.doc.mask]
        h, w = words.shape
        # A stroke rewrites a few words in place, with no copy. (The old image goes before its memory.)
        self._image = QImage(words.data, w, h, 4 * w, QImage.Format.Format_ARGB32_Premultiplied)
        self._words = words
        self.update()

    def _on_doc(self, event: str, payload: object) -> None:
        if event == "mask" and payload is not None:
            box = payload
            if self._pending_box is None:
                self._pending_box = box
            else:  # merge boxes until the next repaint
                b = self._pending_box
                self._pending_box = (
                    slice(min(b[0].start, box[0].start), max(b[0].stop, box[0].stop)),
                    slice(min(b[1].start, box[1].start), max(b[1].stop, box[1].stop)),
                )
            self._refresh_timer.start()
        elif event in ("mask", "replaced"):
            self._pending_box = None
            if event == "replaced":
                self._fit = True
            self.rebuild()
        elif event == "view" and payload and payload[0] == "hidden":
            self._rebuild_colours()

    def _flush(self) -> None:
        box, self._pending_box = self._pending_box, None
        if box is None:
            return
        if self._words.shape != self.doc.mask.shape:
            self.rebuild()
            return
        self._words[box] = self._lut[self.doc.mask[box]]
        self.update(self._widget_rect(box[1].start, box[0].start, box[1].stop, box[0].stop))

    def set_outline(self, rgba: np.ndarray | None) -> None:
        """An RGBA picture drawn over the whole mask (any size: it is stretched to the mask's)."""
        if rgba is None:
            self._outline = QImage()
        else:
            rgba = np.ascontiguousarray(rgba, dtype=np.uint8)
            h, w = rgba.shape[:2]
            self._outline = QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
        self.update()

    @property
    def outline(self) -> QImage:
        return self._outline

    def _on_tools(self, name: str) -> None:
        if name == "opacity":
            self._rebuild_colours()
        self.update()

    # ---- geometry ----------------------------------------------------------------------------------
    def fit(self) -> None:
        h, w = self.doc.mask.shape
        if w == 0 or h == 0 or self.width() <= 0:
            return
        self._scale = min(self.width() / w, self.height() / h) * 0.98
        self._offset = QPointF((self.width() - w * self._scale) / 2, (self.height() - h * self._scale) / 2)
        self._fit = True
        self.view_changed.emit()
        self.update()

    def zoom(self, factor: float, anchor: QPointF | None = None) -> None:
        anchor = anchor or QPointF(self.width() / 2, self.height() / 2)
        new = max(0.05, min(64.0, self._scale * factor))
        f = new / self._scale
        self._offset = anchor - (anchor - self._offset) * f
        self._scale = new
        self._fit = False
        self.view_changed.emit()
        self.update()

    @property
    def scale(self) -> float:
        return self._scale

    def to_image(self, pos: QPointF) -> tuple[float, float]:
        return ((pos.x() - self._offset.x()) / self._scale, (pos.y() - self._offset.y()) / self._scale)

    def to_widget(self, x: float, y: float) -> QPointF:
        return QPointF(self._offset.x() + x * self._scale, self._offset.y() + y * self._scale)

    def _widget_rect(self, x0: float, y0: float, x1: float, y1: float, margin: int = 2) -> QRect:
        """The widget pixels showing image pixels x0..x1, y0..y1: what a change there needs repainted."""
        rect = QRectF(self.to_widget(x0, y0), self.to_widget(x1, y1)).toAlignedRect()
        return rect.adjusted(-margin, -margin, margin, margin)

    def _cursor_rect(self) -> QRect:
        if self._mouse is None:
            return QRect()
        r = self.tools.brush_size / 2 * self._scale + 3  # the circle and its 3 px dark rim
        return QRectF(self._mouse.x() - r, self._mouse.y() - r, 2 * r, 2 * r).toAlignedRect().adjusted(-1, -1, 1, 1)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        if self._fit:
            self.fit()
        super().resizeEvent(event)

    # ---- painting the widget -------------------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().window().color().darker(115))
        h, w = self.doc.mask.shape
        target = QRectF(self._offset.x(), self._offset.y(), w * self._scale, h * self._scale)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self._scale < 1.0)
        if self._face.isNull():
            p.fillRect(target, QColor(96, 96, 96))
        else:
            p.drawImage(target, self._face)
        p.drawImage(target, self._image)
        if not self._outline.isNull():
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            p.drawImage(target, self._outline)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(QColor(255, 255, 255, 220), 1.0)
        pen.setCosmetic(True)
        if self._drag_start is not None and self._mouse is not None:
            p.setPen(pen)
            p.drawRect(QRectF(self.to_widget(self._drag_start.x(), self._drag_start.y()), self._mouse))
        if len(self._lasso) > 1:
            path = QPainterPath(self.to_widget(*self._lasso[0]))
            for pt in self._lasso[1:]:
                path.lineTo(self.to_widget(*pt))
            p.setPen(pen)
            p.drawPath(path)
        if self._mouse is not None and self.tools.tool in ("brush", "eraser") and self._panning is None:
            r = self.tools.brush_size / 2 * self._scale
            p.setPen(QPen(QColor(0, 0, 0, 160), 3.0))
            p.drawEllipse(self._mouse, r, r)
            colour = QColor(*self.doc.classes[self.tools.current_class].color)
            p.setPen(QPen(colour if self.tools.tool == "brush" else QColor(255, 255, 255), 1.5))
            p.drawEllipse(self._mouse, r, r)
        p.end()

    # ---- mouse -------------------------------------------------------------------------------------
    def _paint_value(self) -> int | np.ndarray:
        if self.tools.tool == "eraser":
            return self.doc.eraser_value(self.tools.eraser_mode)
        return self.tools.current_class

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position()
        self._mouse = pos
        x, y = self.to_image(pos)
        tool = self.tools.tool
        if event.button() == Qt.MouseButton.MiddleButton or self._space or (
            tool == "pan" and event.button() == Qt.MouseButton.LeftButton
        ):
            self._panning = pos
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if tool == "picker" or event.modifiers() & Qt.KeyboardModifier.AltModifier:
            cls = mask_ops.pick_label(self.doc.mask, int(x), int(y))
            if cls is not None:
                self.class_picked.emit(cls)
            return
        if tool in ("brush", "eraser"):
            label = self.doc.classes[self.tools.current_class].label
            self.doc.begin_stroke("Erase" if tool == "eraser" else f"Paint {label}")
            self._last_point = (x, y)
            self._dab((x, y), (x, y))
        elif tool == "fill":
            self.doc.begin_stroke(f"Fill with {self.doc.classes[self.tools.current_class].label}")
            self.doc.paint(mask_ops.flood_footprint(self.doc.mask, int(x), int(y)), self.tools.current_class)
            self._finish()
        elif tool == "rect":
            self._drag_start = QPointF(x, y)
        elif tool == "lasso":
            self._lasso = [(x, y)]

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position()
        before = self._cursor_rect()
        if self._panning is not None:
            self._offset += pos - self._panning
            self._panning = pos
            self._fit = False
            self.view_changed.emit()
        elif self._last_point is not None:
            x, y = self.to_image(pos)
            self._dab(self._last_point, (x, y))
            self._last_point = (x, y)
        elif self._lasso:
            self._lasso.append(self.to_image(pos))
        self._mouse = pos
        x, y = self.to_image(pos)
        cls = mask_ops.pick_label(self.doc.mask, int(x), int(y))
        self.hovered.emit("" if cls is None else f"{int(x)}, {int(y)} · {self.doc.classes[cls].label}  "
                          f"· zoom {self._scale * 100:.0f} %")
        if self._panning is None and self._drag_start is None and not self._lasso:
            self.update(before.united(self._cursor_rect()))  # only the brush circle moved
        else:
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._panning is not None:
            self._panning = None
            self.setCursor(Qt.CursorShape.CrossCursor)
            return
        if self._last_point is not None:
            self._last_point = None
            self._finish()
        elif self._drag_start is not None:
            x, y = self.to_image(event.position())
            fp = mask_ops.rect_footprint(self.doc.mask.shape, (self._drag_start.x(), self._drag_start.y()), (x, y))
            self._drag_start = None
            self.doc.begin_stroke("Rectangle")
            self.doc.paint(fp, self.tools.current_class)
            self._finish()
        elif self._lasso:
            points, self._lasso = self._lasso, []
            self.doc.begin_stroke("Lasso fill")
            self.doc.paint(mask_ops.polygon_footprint(self.doc.mask.shape, points), self.tools.current_class)
            self._finish()
        self.update()

    def _dab(self, p0: tuple[float, float], p1: tuple[float, float]) -> None:
        radius = self.tools.brush_size / 2
        # Pixel centres sit at +0.5: shift so a 1-px brush paints the pixel under the cursor.
        a, b = (p0[0] - 0.5, p0[1] - 0.5), (p1[0] - 0.5, p1[1] - 0.5)
        if self.doc.paint(mask_ops.segment_footprint(self.doc.mask.shape, a, b, radius), self._paint_value()):
            self.stroke_extended.emit()

    def _finish(self) -> None:
        if self.doc.commit_stroke():
            self.stroke_finished.emit()

    def abort(self) -> None:
        self._last_point = None
        self._drag_start = None
        self._lasso = []
        self.doc.abort_stroke()
        self.update()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom(1.15**steps, event.position())

    def leaveEvent(self, event) -> None:  # noqa: N802
        self._mouse = None
        self.update()

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.setCursor(Qt.CursorShape.OpenHandCursor)
        elif event.key() == Qt.Key.Key_Escape:
            self.abort()
        else:
            super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.setCursor(Qt.CursorShape.CrossCursor)
        else:
            super().keyReleaseEvent(event)

    # ---- drops: a reference face onto a region gives that class its style ------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasFormat(REFERENCE_MIME) or event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        self._mouse = event.position()
        event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        x, y = self.to_image(event.position())
        cls = mask_ops.pick_label(self.doc.mask, int(x), int(y))
        if cls is None:
            return
        data = event.mimeData()
        if data.hasFormat(REFERENCE_MIME):
            self.reference_dropped.emit(cls, ("reference", bytes(data.data(REFERENCE_MIME)).decode()))
        elif data.hasUrls() and data.urls()[0].isLocalFile():
            self.reference_dropped.emit(cls, ("file", data.urls()[0].toLocalFile()))
        event.acceptProposedAction()

    def cursor_pos_in_image(self) -> tuple[float, float]:
        return self.to_image(QPointF(self.mapFromGlobal(QCursor.pos())))
