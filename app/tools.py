"""The painting tools' shared state: which tool, which class, how big, how the eraser behaves.

Eraser modes:

* ``background`` paints the background class (what "erase" means in a label map);
* ``underneath`` restores the class the mask had when it was opened or parsed (undoes painting in an
  area without undoing everything else).

Tool shortcuts avoid the letters the class palette uses (s n g e b a m u l h t r k c and their
capitals), so every class and every tool has a single key.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal


@dataclass(frozen=True)
class Tool:
    name: str
    label: str
    shortcut: str
    icon: str
    tip: str


TOOLS = (
    Tool("brush", "Brush", "P", "brush", "Paint the current class"),
    Tool("eraser", "Eraser", "X", "eraser", "Erase to the background, or restore the class underneath (Shift+X)"),
    Tool("fill", "Fill", "F", "fill", "Flood-fill the connected region under the cursor"),
    Tool("rect", "Rectangle", "Q", "rect", "Fill a rectangle with the current class"),
    Tool("lasso", "Lasso", "W", "lasso", "Fill a freehand outline with the current class"),
    Tool("picker", "Eyedropper", "I", "eyedropper", "Pick the class under the cursor (or Alt+click)"),
    Tool("pan", "Pan", "Y", "pan", "Drag to move the view (or hold Space, or drag with the middle button)"),
)
TOOL_BY_NAME = {t.name: t for t in TOOLS}
ERASER_MODES = {"background": "Erase to background", "underneath": "Restore the class underneath"}
BRUSH_MIN, BRUSH_MAX = 1, 200


class ToolState(QObject):
    changed = Signal(str)  # the name of the attribute that changed

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tool = "brush"
        self._current_class = 1
        self._brush_size = 12  # diameter in mask pixels
        self._eraser_mode = "background"
        self._opacity = 0.55  # of the mask over the photo

    @property
    def tool(self) -> str:
        return self._tool

    @tool.setter
    def tool(self, name: str) -> None:
        if name not in TOOL_BY_NAME:
            raise ValueError(f"unknown tool {name!r}")
        if name != self._tool:
            self._tool = name
            self.changed.emit("tool")

    @property
    def current_class(self) -> int:
        return self._current_class

    @current_class.setter
    def current_class(self, cls: int) -> None:
        if cls != self._current_class:
            self._current_class = int(cls)
            self.changed.emit("current_class")

    @property
    def brush_size(self) -> int:
        return self._brush_size

    @brush_size.setter
    def brush_size(self, size: int) -> None:
        size = max(BRUSH_MIN, min(BRUSH_MAX, int(size)))
        if size != self._brush_size:
            self._brush_size = size
            self.changed.emit("brush_size")

    def grow_brush(self, direction: int) -> None:
        """``]`` / ``[``: steps proportional to the size, so both 2 px and 150 px brushes adjust quickly."""
        step = max(1, round(self._brush_size * 0.15))
        self.brush_size = self._brush_size + direction * step

    @property
    def eraser_mode(self) -> str:
        return self._eraser_mode

    @eraser_mode.setter
    def eraser_mode(self, mode: str) -> None:
        if mode not in ERASER_MODES:
            raise ValueError(f"unknown eraser mode {mode!r}")
        if mode != self._eraser_mode:
            self._eraser_mode = mode
            self.changed.emit("eraser_mode")

    @property
    def opacity(self) -> float:
        return self._opacity

    @opacity.setter
    def opacity(self, value: float) -> None:
        value = max(0.0, min(1.0, float(value)))
        if value != self._opacity:
            self._opacity = value
            self.changed.emit("opacity")
