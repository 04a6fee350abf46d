"""Building blocks of the per-class panels: a drop-target row and an undo-friendly α slider."""

from __future__ import annotations

from collections.abc import Hashable

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSlider, QWidget

from app.canvas import REFERENCE_MIME
from app.qt_util import swatch
from ca2sis.classes import FaceClass


class AlphaSlider(QSlider):
    """0–100 % slider that reports a merge key while it is being dragged.

    All value changes of one drag share a key, so the document folds them into one undo step;
    keyboard steps get no key and stay separate. :attr:`value_label` shows the value; the rows put
    it beside the slider.
    """

    alpha_changed = Signal(float, object)  # alpha in [0, 1], merge key or None
    released = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setRange(0, 100)
        self.setSingleStep(5)
        self.setPageStep(25)
        self.setMinimumWidth(70)
        self._drag = 0
        self.value_label = QLabel()
        self.value_label.setMinimumWidth(self.value_label.fontMetrics().horizontalAdvance("0.00") + 4)
        self.value_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._show_value(self.value())
        self.sliderPressed.connect(self._on_press)
        self.sliderReleased.connect(self.released)
        self.valueChanged.connect(self._on_value)

    def _on_press(self) -> None:
        self._drag += 1

    def _on_value(self, value: int) -> None:
        self._show_value(value)
        key: Hashable | None = (id(self), self._drag) if self.isSliderDown() else None
        self.alpha_changed.emit(value / 100.0, key)

    def _show_value(self, value: int) -> None:
        self.value_label.setText(f"{value / 100:.2f}")
        self.setToolTip(f"α = {value / 100:.2f}")

    def set_alpha(self, alpha: float) -> None:
        self.blockSignals(True)
        self.setValue(round(alpha * 100))
        self.blockSignals(False)
        self._show_value(self.value())

    def changeEvent(self, event) -> None:  # noqa: N802 (the value greys out with the slider)
        if event.type() == QEvent.Type.EnabledChange:
            self.value_label.setEnabled(self.isEnabled())
        super().changeEvent(event)


class ClassRow(QFrame):
    """One class's row: swatch and name on the left; accepts reference faces dropped onto it."""

    dropped = Signal(int, object)  # class, ("file", path) or ("reference", key)

    def __init__(self, face_class: FaceClass, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cls = face_class.id
        self.setAcceptDrops(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.layout_ = QHBoxLayout(self)
        self.layout_.setContentsMargins(4, 1, 4, 1)
        self.layout_.setSpacing(6)
        self.name = QLabel()
        self.name.setPixmap(swatch(face_class.color).pixmap(14, 14))
        self.layout_.addWidget(self.name)
        label = QLabel(face_class.label)
        label.setMinimumWidth(78)
        self.layout_.addWidget(label)

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasFormat(REFERENCE_MIME) or event.mimeData().hasUrls():
            self.setFrameShape(QFrame.Shape.Box)
            event.acceptProposedAction()

    def dragLeaveEvent(self, event) -> None:  # noqa: N802
        self.setFrameShape(QFrame.Shape.NoFrame)

    def dropEvent(self, event) -> None:  # noqa: N802
        self.setFrameShape(QFrame.Shape.NoFrame)
        data = event.mimeData()
        if data.hasFormat(REFERENCE_MIME):
            self.dropped.emit(self.cls, ("reference", bytes(data.data(REFERENCE_MIME)).decode()))
        elif data.hasUrls() and data.urls()[0].isLocalFile():
            self.dropped.emit(self.cls, ("file", data.urls()[0].toLocalFile()))
        else:
            return
        event.acceptProposedAction()
