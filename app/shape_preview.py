"""Where a shape morph is heading, outlined in the mask view before it is applied.

The shape sliders morph the model's shape codes, so only the rendered face changes; the painted mask
stays as it is until "Apply to mask". To show in the mask view where each part's outline is heading,
the same signed-distance morph that "Apply to mask" bakes (:func:`app.shape_morph.morph_layout`) is
computed at :data:`PREVIEW_SIZE` on a thread of its own (newest settings win; it never waits for the
model) and drawn over the canvas: each morphed class's target outline (every border of the morphed
layout for the whole face), white on a dark rim so that it reads on any class colour.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QTimer
from scipy import ndimage

from app.document import Document
from app.shape_morph import morph_layout, outlines, resize_nearest
from app.worker import JobResult, Worker
from ca2sis.requests import ShapeSource

if TYPE_CHECKING:
    from app.canvas import MaskCanvas

PREVIEW_SIZE = 256  # the morph costs two distance transforms per class: 4× cheaper than at 512²


def outline_overlay(doc_mask: np.ndarray, references: dict[str, np.ndarray], shapes: dict[int, ShapeSource],
                    shape_all: ShapeSource | None, num_classes: int, locked: set[int],
                    size: int = PREVIEW_SIZE) -> np.ndarray | None:
    """RGBA picture (``size``²) of the outlines the shape morphs lead to; None when nothing morphs."""
    if not shapes and shape_all is None:
        return None
    shape = (size, size)
    small = {key: resize_nearest(mask, shape) for key, mask in references.items()}
    target = morph_layout(resize_nearest(doc_mask, shape), small, shapes, shape_all, num_classes, locked)
    edge = outlines(target, sorted(shapes)) if shape_all is None else outlines(target)
    rim = ndimage.binary_dilation(edge) & ~edge
    rgba = np.zeros((size, size, 4), np.uint8)
    rgba[rim] = (0, 0, 0, 170)
    rgba[edge] = (255, 255, 255, 255)
    return rgba


class OutlinePreview(QObject):
    """Keeps the canvas's morph outline in step with the document's shape settings."""

    def __init__(self, doc: Document, canvas: MaskCanvas, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.doc, self.canvas = doc, canvas
        self.worker = Worker(self)  # its own thread: the outline follows a slider while the model renders
        self.worker.finished.connect(self._on_result)
        self._timer = QTimer(self, singleShot=True, interval=0)  # one update per burst of changes
        self._timer.timeout.connect(self.update)
        doc.subscribe(self._on_doc)

    def _on_doc(self, event: str, payload: object) -> None:
        if (event == "setting" and payload[0] in ("shape", "shape_all") or event in ("replaced", "references")
                or event == "mask" and not self.doc.in_stroke):
            self._timer.start()

    def update(self) -> None:
        doc = self.doc
        if not doc.shapes and doc.shape_all is None:
            self.worker.cancel("outline")
            if not self.canvas.outline.isNull():  # (a repaint of the whole canvas otherwise, after every stroke)
                self.canvas.set_outline(None)
            return
        # Copies: the thread must not see later edits (the reference masks are never edited in place).
        args = (doc.mask.copy(), {k: r.mask for k, r in doc.references.items()}, dict(doc.shapes), doc.shape_all,
                len(doc.classes), set(doc.locked))
        self.worker.submit(None, lambda: outline_overlay(*args), channel="outline", force=True)

    def _on_result(self, result: JobResult) -> None:
        if result.ok:
            self.canvas.set_outline(result.value)

    def shutdown(self) -> None:
        self.worker.shutdown()
