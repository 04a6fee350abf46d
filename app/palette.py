"""The class palette: colour, name, key, pixel count, visibility and lock for every class."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from app.document import Document
from app.qt_util import class_key, icon, signals_blocked, swatch
from app.tools import ToolState

COL_CLASS, COL_KEY, COL_PIXELS, COL_VISIBLE, COL_LOCK = range(5)


class ClassPalette(QWidget):
    def __init__(self, doc: Document, tools: ToolState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.tools = tools
        self.table = QTableWidget(len(doc.classes), 5, self)
        self.table.setHorizontalHeaderLabels(["Class", "Key", "Pixels", "", ""])
        self.table.horizontalHeaderItem(COL_VISIBLE).setIcon(icon("eye"))
        self.table.horizontalHeaderItem(COL_VISIBLE).setToolTip("Shown on the canvas")
        self.table.horizontalHeaderItem(COL_LOCK).setIcon(icon("lock"))
        self.table.horizontalHeaderItem(COL_LOCK).setToolTip("Locked: never painted over")
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys belong to the shortcuts
        # Check boxes drawn by the style sheet stay visible in dark themes too.
        self.table.setStyleSheet(
            "QTableView::indicator { width: 12px; height: 12px; border: 1px solid palette(mid); border-radius: 3px; }"
            "QTableView::indicator:checked { background: palette(highlight); border-color: palette(highlight); }"
        )
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(COL_CLASS, QHeaderView.ResizeMode.Stretch)
        for col in (COL_KEY, COL_PIXELS, COL_VISIBLE, COL_LOCK):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        for c in doc.classes:
            name = QTableWidgetItem(swatch(c.color), c.label)
            name.setToolTip(f"{c.label} ({c.name}, id {c.id})")
            key = QTableWidgetItem(class_key(c.shortcut).toString() if c.shortcut else "")
            pixels = QTableWidgetItem("0")
            pixels.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            visible = QTableWidgetItem()
            visible.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled)
            lock = QTableWidgetItem()
            lock.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled)
            for col, item in enumerate((name, key, pixels, visible, lock)):
                self.table.setItem(c.id, col, item)
        self.table.resizeRowsToContents()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        self.setMinimumWidth(250)  # class names stay readable next to the key and count columns

        self._count_timer = QTimer(self, singleShot=True, interval=150)  # counts lag painting a little
        self._count_timer.timeout.connect(self.refresh_counts)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.table.itemChanged.connect(self._on_item_changed)
        doc.subscribe(self._on_doc)
        tools.changed.connect(self._on_tools)
        self.refresh()

    def refresh(self) -> None:
        with signals_blocked(self.table):
            for c in self.doc.classes:
                self.table.item(c.id, COL_VISIBLE).setCheckState(
                    Qt.CheckState.Unchecked if c.id in self.doc.hidden else Qt.CheckState.Checked
                )
                self.table.item(c.id, COL_LOCK).setCheckState(
                    Qt.CheckState.Checked if c.id in self.doc.locked else Qt.CheckState.Unchecked
                )
            self.table.selectRow(self.tools.current_class)
        self.refresh_counts()

    def refresh_counts(self) -> None:
        counts = self.doc.pixel_counts()
        total = max(1, int(counts.sum()))
        with signals_blocked(self.table):
            for c in self.doc.classes:
                item = self.table.item(c.id, COL_PIXELS)
                item.setText(f"{int(counts[c.id]):,}")
                item.setToolTip(f"{100.0 * counts[c.id] / total:.1f} % of the mask")

    def _on_doc(self, event: str, payload: object) -> None:
        if event == "mask":
            self._count_timer.start()
        elif event in ("replaced", "view"):
            self.refresh()

    def _on_tools(self, name: str) -> None:
        if name == "current_class":
            with signals_blocked(self.table):
                self.table.selectRow(self.tools.current_class)

    def _on_selection(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self.tools.current_class = rows[0].row()

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        checked = item.checkState() == Qt.CheckState.Checked
        if item.column() == COL_VISIBLE:
            self.doc.set_hidden(item.row(), not checked)
        elif item.column() == COL_LOCK:
            self.doc.set_locked(item.row(), checked)
