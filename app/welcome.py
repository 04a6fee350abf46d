"""What the result pane offers before there is a face to edit: three ways to start that show a face.

A new document is an empty, all-background mask, and the model renders that as a blurred ghost of a
face. So while the document is blank the editor renders nothing and offers instead: the bundled
sample portraits, opening a photo, or the template face, a mean face mask of a data set's faces
(``resources/template/face_mask.png``; ``make_template.py`` beside it says how it was made) drawn with
random styles. Painting on the blank mask starts a document too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QToolButton, QVBoxLayout, QWidget

from app.document import Document
from app.qt_util import thumbnail
from ca2sis.classes import ClassTable
from ca2sis.paths import PROJECT_ROOT

TEMPLATE_MASK = PROJECT_ROOT / "resources" / "template" / "face_mask.png"
TEMPLATE_NAME = "Template face"
THUMB = 112


def is_blank(doc: Document) -> bool:
    """A document nobody has started yet: no face, nothing painted or undoable, never saved."""
    background = doc.classes.background or 0
    return (doc.face is None and doc.path is None and not doc.history.can_undo and not doc.references
            and not (doc.mask != background).any())


def template_mask(classes: ClassTable, path: Path = TEMPLATE_MASK) -> np.ndarray:
    """The bundled template face as an index mask (ValueError when it is missing or not a mask)."""
    try:
        with Image.open(path) as im:
            mask = np.asarray(im)
    except OSError as exc:
        raise ValueError(f"the template face mask cannot be read ({exc})") from exc
    if mask.ndim != 2 or int(mask.max()) >= len(classes):
        raise ValueError(f"{path.name} is not a {classes.name} index mask")
    return mask.astype(np.uint8)


def _tile(text: str, pixmap, tip: str) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setIcon(QIcon(pixmap))
    button.setIconSize(QSize(THUMB, THUMB))
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
    button.setAutoRaise(True)
    button.setToolTip(tip)
    return button


class WelcomePanel(QWidget):
    sample_chosen = Signal(object)  # Path of a sample portrait
    open_requested = Signal()
    template_requested = Signal()

    def __init__(self, samples: list[Path], classes: ClassTable, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title = QLabel("<h2>Start with a face</h2>")
        intro = QLabel("Open a portrait of your own, take one of the samples, or start from the template face "
                       "and paint it into someone. You can also drop a photo on the window, or paint a mask on "
                       "the left.")
        intro.setWordWrap(True)
        self.tiles: dict[str, QToolButton] = {}
        grid = QGridLayout()
        grid.setSpacing(8)
        try:
            colours = classes.colorize(template_mask(classes))
            self.tiles["template"] = _tile(TEMPLATE_NAME, thumbnail(colours, THUMB),
                                           "A mean face mask with random styles: paint it into someone (Ctrl+N)")
            self.tiles["template"].clicked.connect(self.template_requested)
        except ValueError:  # a trimmed install without the template: the samples and photos remain
            pass
        for path in samples:
            try:
                with Image.open(path) as im:
                    pixels = np.asarray(im.convert("RGB"))
            except OSError:
                continue
            tile = _tile(path.stem.replace("-", " ").capitalize(), thumbnail(pixels, THUMB),
                         f"Open the sample portrait {path.name}")
            tile.clicked.connect(lambda _=False, p=path: self.sample_chosen.emit(p))
            self.tiles[path.stem] = tile
        for i, tile in enumerate(self.tiles.values()):
            grid.addWidget(tile, i // 3, i % 3)
        open_button = QPushButton("Open a photo…")
        open_button.setToolTip("Open a portrait: its face is found, aligned and parsed (Ctrl+O)")
        open_button.clicked.connect(self.open_requested)
        self.open_button = open_button
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 24, 24, 24)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addSpacing(8)
        layout.addLayout(grid)
        layout.addSpacing(8)
        layout.addWidget(open_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)
