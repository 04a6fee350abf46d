"""What the result pane shows while there is no model: what to download or train, and where it goes."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from ca2sis.paths import BUNDLED_MODELS, user_models_dir


def _hints_html(hints: list) -> str:
    if not hints:
        return ""
    rows = []
    for h in hints:
        state = "installed" if h.installed else "not installed"
        how = f"<br><small>{html.escape(h.how_to_get)}</small>" if h.how_to_get else ""
        rows.append(f"<li><b>{html.escape(h.name)}</b> ({state}): {html.escape(h.description)}{how}</li>")
    return "<p>Known models:</p><ul>" + "".join(rows) + "</ul>"


def first_run_html(problem: str = "", hints: list | None = None) -> str:
    models = user_models_dir()
    extra = f"<p style='color:#e06c6c'><b>{html.escape(problem)}</b></p>" if problem else ""
    return f"""
    <h2>No model loaded yet</h2>
    {extra}
    <p>You can paint masks now; to see faces, the editor needs (CA)²-SIS generator weights.</p>
    <ol>
    <li><b>Download</b> the authors' CelebAMask-HQ checkpoint <code>latest_net_G.pth</code> and register it:<br>
        <code>python main.py models add PATH/TO/latest_net_G.pth</code></li>
    <li><b>Or train</b> your own (a small demo model trains on a CPU):<br>
        <code>python main.py train --help</code></li>
    <li><b>Or place</b> a weights file in your models folder:<br><code>{models}</code></li>
    </ol>
    {_hints_html(hints or [])}
    <p>Bundled models live in <code>{BUNDLED_MODELS}</code>. Or choose a file directly:</p>
    """


class FirstRunPanel(QWidget):
    choose_weights = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QLabel(first_run_html())
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        button = QPushButton("Choose weights file…")
        button.setToolTip("Register a .safetensors or latest_net_G.pth file as your default model and load it")
        button.clicked.connect(self.choose_weights)
        inner = QWidget()
        column = QVBoxLayout(inner)
        column.setContentsMargins(24, 24, 24, 24)
        column.addWidget(self.text)
        column.addWidget(button, 0, Qt.AlignmentFlag.AlignLeft)
        column.addStretch(1)
        scroll = QScrollArea()  # the instructions stay reachable in small windows
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(inner)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        self.hints: list = []

    def set_hints(self, hints: list) -> None:
        self.hints = hints
        self.text.setText(first_run_html("", hints))

    def set_problem(self, problem: str) -> None:
        self.text.setText(first_run_html(problem, self.hints))


def weights_filter() -> str:
    return "Model weights (*.safetensors *.pth *.pt);;All files (*)"


def describe_path(path: Path | None) -> str:
    return "none" if path is None else str(path)
