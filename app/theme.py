"""Look: Fusion style with a palette that follows the system's dark or light preference."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication


def configure_high_dpi() -> None:
    """Before the QApplication exists: fractional scale factors as the system reports them (no rounding)."""
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)


def system_is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    scheme = getattr(hints, "colorScheme", None)
    if scheme is not None and hints.colorScheme() != Qt.ColorScheme.Unknown:
        return hints.colorScheme() == Qt.ColorScheme.Dark
    return QGuiApplication.palette().window().color().lightness() < 128


def dark_palette() -> QPalette:
    p = QPalette()
    window, base, text = QColor(37, 39, 43), QColor(28, 30, 33), QColor(226, 228, 231)
    accent = QColor(74, 144, 226)
    for role, colour in [
        (QPalette.ColorRole.Window, window),
        (QPalette.ColorRole.WindowText, text),
        (QPalette.ColorRole.Base, base),
        (QPalette.ColorRole.AlternateBase, window),
        (QPalette.ColorRole.ToolTipBase, QColor(50, 52, 57)),
        (QPalette.ColorRole.ToolTipText, text),
        (QPalette.ColorRole.Text, text),
        (QPalette.ColorRole.Button, QColor(48, 50, 55)),
        (QPalette.ColorRole.ButtonText, text),
        (QPalette.ColorRole.BrightText, QColor(255, 90, 90)),
        (QPalette.ColorRole.Highlight, accent),
        (QPalette.ColorRole.HighlightedText, QColor(255, 255, 255)),
        (QPalette.ColorRole.Link, accent),
        (QPalette.ColorRole.PlaceholderText, QColor(140, 143, 150)),
        (QPalette.ColorRole.Mid, QColor(112, 116, 124)),
        (QPalette.ColorRole.Dark, QColor(22, 23, 26)),
        (QPalette.ColorRole.Light, QColor(70, 73, 80)),
    ]:
        p.setColor(role, colour)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 123, 130))
    return p


def apply_theme(app: QApplication, dark: bool | None = None) -> bool:
    """Fusion everywhere (the same look on every platform); dark when the system is. Returns dark."""
    app.setStyle("Fusion")
    dark = system_is_dark() if dark is None else dark
    app.setPalette(dark_palette() if dark else app.style().standardPalette())
    return dark


def follow_system_theme(app: QApplication) -> None:
    """Re-theme when the user switches the system between dark and light while the editor runs."""
    hints = QGuiApplication.styleHints()
    if hasattr(hints, "colorSchemeChanged"):
        hints.colorSchemeChanged.connect(lambda _scheme: apply_theme(app))
