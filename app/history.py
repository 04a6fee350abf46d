"""Undo history built from small diffs.

A mask edit is stored as the bounding box it touched with the old and new pixel values there (not a
copy of the whole mask); a setting change as the old and new value of one key. Several atoms that
belong to one user action (a brush drag, a preset applied to six classes) form one step. Consecutive
setting changes that carry the same ``merge_key`` (one slider drag) collapse into one step.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.mask_ops import Box


@dataclass
class MaskAtom:
    box: Box
    old: np.ndarray
    new: np.ndarray

    def undo(self, target: Any) -> None:
        target.restore_mask_region(self.box, self.old)

    def redo(self, target: Any) -> None:
        target.restore_mask_region(self.box, self.new)


@dataclass
class SettingAtom:
    """One setting (``key`` such as ("style", 4)) going from ``old`` to ``new``; None means unset."""

    key: Hashable
    old: Any
    new: Any

    def undo(self, target: Any) -> None:
        target.restore_setting(self.key, self.old)

    def redo(self, target: Any) -> None:
        target.restore_setting(self.key, self.new)


@dataclass
class Step:
    label: str
    atoms: list[MaskAtom | SettingAtom] = field(default_factory=list)
    merge_key: Hashable | None = None


class History:
    """Undo and redo stacks of :class:`Step`; bounded so a long day of editing does not grow without end."""

    def __init__(self, limit: int = 200) -> None:
        self._undo: deque[Step] = deque(maxlen=limit)
        self._redo: list[Step] = []
        self.on_change: list[Callable[[], None]] = []

    def push(self, step: Step) -> None:
        """Record a step that has already been applied. A new edit clears redo."""
        if not step.atoms:
            return
        top = self._undo[-1] if self._undo else None
        if step.merge_key is not None and top is not None and top.merge_key == step.merge_key:
            _merge_into(top, step)
        else:
            self._undo.append(step)
        self._redo.clear()
        self._notify()

    def undo(self, target: Any) -> Step | None:
        if not self._undo:
            return None
        step = self._undo.pop()
        for atom in reversed(step.atoms):
            atom.undo(target)
        self._redo.append(step)
        self._notify()
        return step

    def redo(self, target: Any) -> Step | None:
        if not self._redo:
            return None
        step = self._redo.pop()
        for atom in step.atoms:
            atom.redo(target)
        self._undo.append(step)
        self._notify()
        return step

    def clear(self) -> None:
        self._undo.clear()
        self._redo.clear()
        self._notify()

    def seal(self) -> None:
        """End any merging: the next step starts fresh even with the same merge key (slider released)."""
        if self._undo:
            self._undo[-1].merge_key = None

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def undo_label(self) -> str:
        return self._undo[-1].label if self._undo else ""

    @property
    def redo_label(self) -> str:
        return self._redo[-1].label if self._redo else ""

    def __len__(self) -> int:
        return len(self._undo)

    def _notify(self) -> None:
        for callback in list(self.on_change):
            callback()


def _merge_into(top: Step, step: Step) -> None:
    """Fold ``step`` into ``top``: keep the oldest ``old`` and the newest ``new`` per setting key."""
    by_key = {a.key: a for a in top.atoms if isinstance(a, SettingAtom)}
    for atom in step.atoms:
        if isinstance(atom, SettingAtom) and atom.key in by_key:
            by_key[atom.key].new = atom.new
        else:
            top.atoms.append(atom)
