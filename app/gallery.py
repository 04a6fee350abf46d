"""The gallery of reference faces: thumbnails to drag onto a class row or onto the canvas."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QDrag, QIcon
from PySide6.QtWidgets import QHBoxLayout, QListWidget, QListWidgetItem, QMenu, QPushButton, QVBoxLayout, QWidget

from app.canvas import REFERENCE_MIME
from app.document import Document
from app.qt_util import thumbnail

KEY_ROLE = Qt.ItemDataRole.UserRole


class _ReferenceList(QListWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setIconSize(QSize(88, 88))
        self.setGridSize(QSize(104, 118))
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setMovement(QListWidget.Movement.Static)
        self.setDragEnabled(True)
        self.setDragDropMode(QListWidget.DragDropMode.DragOnly)  # photo drops go to the gallery itself
        self.setWordWrap(True)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # a long file name keeps its start and suffix

    def startDrag(self, actions) -> None:  # noqa: N802 (a custom MIME type carries the reference key)
        item = self.currentItem()
        if item is None:
            return
        mime = QMimeData()
        mime.setData(REFERENCE_MIME, item.data(KEY_ROLE).encode())
        drag = QDrag(self)
        drag.setMimeData(mime)
        drag.setPixmap(item.icon().pixmap(64, 64))
        drag.exec(Qt.DropAction.CopyAction)


class Gallery(QWidget):
    add_requested = Signal()  # "Add reference…"
    files_dropped = Signal(list)  # photos dropped on the gallery: add them as references
    apply_requested = Signal(str, str)  # reference key, preset name

    def __init__(self, doc: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.list = _ReferenceList(self)
        self.list.setToolTip("Reference faces: drag one onto a class or onto a region of the canvas")
        add = QPushButton("Add reference…")
        add.setToolTip("Open a photo as a reference face (Ctrl+R)")
        add.clicked.connect(self.add_requested)
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(buttons)
        layout.addWidget(self.list, 1)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)
        self.setAcceptDrops(True)
        doc.subscribe(self._on_doc)
        self.rebuild()

    def rebuild(self) -> None:
        self.list.clear()
        for ref in self.doc.references.values():
            item = QListWidgetItem(QIcon(thumbnail(ref.image, 88)), ref.name)
            item.setData(KEY_ROLE, ref.key)
            item.setToolTip(f"{ref.name}: drag onto a class, or right-click for presets")
            self.list.addItem(item)

    def _on_doc(self, event: str, payload: object) -> None:
        if event in ("references", "replaced"):
            self.rebuild()

    def _menu(self, pos) -> None:
        item = self.list.itemAt(pos)
        if item is None:
            return
        menu = QMenu(self)
        key = item.data(KEY_ROLE)
        for preset in self.doc.classes.presets:
            action = menu.addAction(f"Use for {preset}")
            action.triggered.connect(lambda _=False, p=preset: self.apply_requested.emit(key, p))
        menu.exec(self.list.mapToGlobal(pos))

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.files_dropped.emit(paths)
            event.acceptProposedAction()
