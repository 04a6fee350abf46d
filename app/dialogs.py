"""Small dialogs: choosing one face among several, and the keyboard shortcut sheet."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.faces import face_side, too_small
from app.qt_util import thumbnail


def face_crops(photo: np.ndarray, faces: list, margin: float = 0.25) -> list[np.ndarray]:
    """Thumbnails of detected faces: each box grown by ``margin`` and clipped to the photo."""
    h, w = photo.shape[:2]
    crops = []
    for face in faces:
        x0, y0, x1, y1 = (float(v) for v in np.asarray(face.box).ravel()[:4])
        mx, my = (x1 - x0) * margin, (y1 - y0) * margin
        xa, ya = max(0, int(x0 - mx)), max(0, int(y0 - my))
        xb, yb = min(w, int(x1 + mx)), min(h, int(y1 + my))
        crops.append(photo[ya:yb, xa:xb] if xb > xa and yb > ya else photo)
    return crops


class FacePicker(QDialog):
    """Several faces were found: the user picks the one to edit (double-click or OK).

    Every face is listed, largest first, with its thumbnail, its size (the side of its framed square
    in the photo) and its detection score; faces too small for the model (``resolution``) are marked
    and say why in their tooltip.
    """

    def __init__(self, photo: np.ndarray, faces: list, selected: int = 0, parent: QWidget | None = None,
                 resolution: int | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Choose a face")
        self.list = QListWidget()
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setIconSize(QSize(128, 128))
        self.list.setMovement(QListWidget.Movement.Static)
        self.list.setWordWrap(True)
        sizes = [face_side(f) or 0.0 for f in faces]
        self.order = sorted(range(len(faces)), key=lambda i: -sizes[i])  # list row → face index
        crops = face_crops(photo, faces)
        for row, i in enumerate(self.order):
            face = faces[i]
            score = getattr(face, "score", None)
            text = f"Face {row + 1}" + (f"\n{sizes[i]:.0f} px" if sizes[i] else "")
            text += f" · {score:.2f}" if score else ""
            warning = too_small(face, resolution)
            item = QListWidgetItem(QIcon(thumbnail(crops[i], 128)), text + ("\n⚠ small" if warning else ""))
            item.setToolTip(warning or f"Its square is {sizes[i]:.0f} px in the photo.")
            self.list.addItem(item)
        self.list.setCurrentRow(self.order.index(selected) if selected in self.order else 0)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"{len(faces)} faces were found, largest first. Which one do you want to edit?"))
        layout.addWidget(self.list)
        layout.addWidget(buttons)
        self.resize(660, 380)

    @property
    def choice(self) -> int:
        """The chosen face's index in the list of faces given (not its row)."""
        return self.order[max(0, self.list.currentRow())]


class ShortcutSheet(QDialog):
    def __init__(self, actions: list[QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        rows = [(a.text().replace("&", ""), a.shortcut().toString(QKeySequence.SequenceFormat.NativeText))
                for a in actions if not a.shortcut().isEmpty()]
        table = QTableWidget(len(rows), 2)
        table.setHorizontalHeaderLabels(["Action", "Shortcut"])
        table.verticalHeader().setVisible(False)
        for i, (text, keys) in enumerate(rows):
            table.setItem(i, 0, QTableWidgetItem(text))
            item = QTableWidgetItem(keys)
            item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            table.setItem(i, 1, item)
        table.resizeColumnsToContents()
        table.horizontalHeader().setStretchLastSection(True)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        self.resize(460, 560)
