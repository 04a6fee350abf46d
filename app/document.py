"""The edited face as plain data: mask, per-class style and shape settings, references, undo.

Qt-free on purpose: widgets observe a :class:`Document` through plain callbacks
(``doc.subscribe(fn)``; ``fn(event, payload)``) and change it only through its methods, so every
change is recorded in the undo history and every view stays in sync. Events:

``"mask"``        payload: the changed box (slices) or None for "everything"
``"setting"``     payload: the key, ("style", cls) / ("shape", cls) / ("shape_all", None) / ("fit", None)
``"references"``  the reference faces changed
``"view"``        locks, hidden classes or the attention class changed
``"replaced"``    a new face was loaded (everything changed)
``"dirty"``       payload: the new dirty flag
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from app import mask_ops
from app.fit_record import FitRecord
from app.history import History, MaskAtom, SettingAtom, Step
from ca2sis.classes import CELEBAMASK_HQ, ClassTable
from ca2sis.requests import ShapeSource, StyleSource, content_key

Listener = Callable[[str, Any], None]
SettingKey = tuple[str, int | None]


@dataclass
class ReferenceFace:
    """A face whose styles or shapes can be borrowed: aligned RGB image and its index mask."""

    key: str
    name: str
    image: np.ndarray
    mask: np.ndarray

    @staticmethod
    def make(name: str, image: np.ndarray, mask: np.ndarray) -> ReferenceFace:
        return ReferenceFace(content_key(image, mask), name, image, mask)


@dataclass
class PhotoContext:
    """Where the face came from: the full photo and the alignment that cut the face out of it."""

    photo: np.ndarray  # full-resolution RGB
    transform: Any = None  # ca2sis.photo.align.AlignTransform; None when the whole image is the face
    face_index: int | None = None
    warnings: list[str] = field(default_factory=list)
    pad: tuple[int, int] = (0, 0)  # whole-image faces: (left, top) padding that made the photo square


class Document:
    def __init__(
        self,
        classes: ClassTable = CELEBAMASK_HQ,
        mask: np.ndarray | None = None,
        face: np.ndarray | None = None,
        size: int = 512,
    ) -> None:
        self.classes = classes
        self.mask = np.zeros((size, size), np.uint8) if mask is None else np.array(mask, np.uint8)
        self.face = face  # aligned RGB of the edited face, the "own" style source; None: mask only
        self.original_mask = self.mask.copy()  # the mask as opened: the eraser's "class underneath"
        self.context: PhotoContext | None = None
        self.styles: dict[int, StyleSource] = {}
        self.shapes: dict[int, ShapeSource] = {}
        self.shape_all: ShapeSource | None = None
        self.fit: FitRecord | None = None  # the face's fit to its photo (Fit to photo); undoable like a setting
        self.references: dict[str, ReferenceFace] = {}
        self.locked: set[int] = set()
        self.hidden: set[int] = set()
        self.attention_class: int | None = None
        self.seed = 0  # random styles for every class when there is no face of our own
        self.path: Path | None = None
        self.name = "Untitled"
        self.dirty = False
        self.history = History()
        self._listeners: list[Listener] = []
        self._stroke_before: np.ndarray | None = None
        self._stroke_label = ""

    # ---- observers ---------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _emit(self, event: str, payload: Any = None) -> None:
        for listener in list(self._listeners):
            listener(event, payload)

    def _touch(self) -> None:
        if not self.dirty:
            self.dirty = True
            self._emit("dirty", True)

    def mark_clean(self, path: Path | None = None) -> None:
        if path is not None:
            self.path = Path(path)
            self.name = self.path.stem
        self.dirty = False
        self._emit("dirty", False)

    # ---- loading a new face ------------------------------------------------------------------
    def load_face(
        self, mask: np.ndarray, face: np.ndarray | None, name: str, context: PhotoContext | None = None
    ) -> None:
        """Start over on a new face (or a bare mask). Not undoable: it is a new document."""
        mask = np.asarray(mask)
        if mask.ndim != 2:
            raise ValueError(f"a mask must be a 2-D index array, got shape {mask.shape}")
        if mask.size and int(mask.max()) >= len(self.classes):
            raise ValueError(f"mask holds class id {int(mask.max())}; {self.classes.name} has {len(self.classes)}")
        if face is not None and face.shape[:2] != mask.shape:
            raise ValueError(f"face image {face.shape[:2]} and mask {mask.shape} differ in size")
        self.mask = mask.astype(np.uint8, copy=True)
        self.original_mask = self.mask.copy()
        self.face = None if face is None else np.ascontiguousarray(face, dtype=np.uint8)
        self.context = context
        self.styles.clear()
        self.shapes.clear()
        self.shape_all = None
        self.fit = None
        self.name = name
        self.path = None
        self.history.clear()
        self.dirty = False
        self._stroke_before = None
        self._emit("replaced")

    def replace_with(self, other: Document) -> None:
        """Take over another document's whole state (a loaded project); widgets keep observing ``self``."""
        if other.classes is not self.classes and len(other.classes) != len(self.classes):
            raise ValueError("the project's class table differs from the editor's")
        for name in ("mask", "face", "original_mask", "context", "styles", "shapes", "shape_all", "fit", "references",
                     "locked", "hidden", "attention_class", "seed", "path", "name"):
            setattr(self, name, getattr(other, name))
        self.history.clear()
        self.dirty = False
        self._stroke_before = None
        self._emit("replaced")

    # ---- painting: one stroke = one undo step --------------------------------------------------
    def begin_stroke(self, label: str = "Paint") -> None:
        self._stroke_before = self.mask.copy()
        self._stroke_label = label

    @property
    def in_stroke(self) -> bool:
        return self._stroke_before is not None

    def paint(self, footprint: mask_ops.Footprint | None, value: int | np.ndarray) -> mask_ops.Box | None:
        """Apply a footprint inside the current stroke (starting a one-off stroke if none is open)."""
        one_off = not self.in_stroke
        if one_off:
            self.begin_stroke()
        box = mask_ops.apply_label(self.mask, footprint, value, self.locked)
        if box is not None:
            self._emit("mask", box)
        if one_off:
            self.commit_stroke()
        return box

    def commit_stroke(self) -> bool:
        """Close the stroke; records one undo step when anything changed."""
        before, self._stroke_before = self._stroke_before, None
        if before is None:
            return False
        box = mask_ops.changed_box(before, self.mask)
        if box is None:
            return False
        self.history.push(Step(self._stroke_label, [MaskAtom(box, before[box].copy(), self.mask[box].copy())]))
        self._touch()
        return True

    def abort_stroke(self) -> None:
        before, self._stroke_before = self._stroke_before, None
        if before is not None:
            box = mask_ops.changed_box(before, self.mask)
            if box is not None:
                self.mask[box] = before[box]
                self._emit("mask", box)

    def eraser_value(self, mode: str) -> int | np.ndarray:
        """What the eraser paints: the background class, or the class the opened mask had there."""
        if mode == "underneath":
            return self.original_mask
        return self.classes.background or 0

    def set_mask(self, mask: np.ndarray, label: str = "Edit mask") -> bool:
        """Replace the whole mask as one undoable step (baked morphs, pasted masks)."""
        mask = np.asarray(mask, dtype=np.uint8)
        if mask.shape != self.mask.shape:
            raise ValueError(f"mask shape {mask.shape} differs from the document's {self.mask.shape}")
        box = mask_ops.changed_box(self.mask, mask)
        if box is None:
            return False
        self.history.push(Step(label, [MaskAtom(box, self.mask[box].copy(), mask[box].copy())]))
        self.mask[box] = mask[box]
        self._touch()
        self._emit("mask", box)
        return True

    def bake_mask(self, mask: np.ndarray, settings: dict[SettingKey, Any], label: str) -> bool:
        """Replace the mask and change settings together, as one undo step ("apply shapes to mask")."""
        mask = np.asarray(mask, dtype=np.uint8)
        box = mask_ops.changed_box(self.mask, mask)
        atoms: list[MaskAtom | SettingAtom] = []
        if box is not None:
            atoms.append(MaskAtom(box, self.mask[box].copy(), mask[box].copy()))
        atoms += [SettingAtom(k, self.setting(k), v) for k, v in settings.items() if self.setting(k) != v]
        if not atoms:
            return False
        self.history.push(Step(label, atoms))
        for atom in atoms:
            atom.redo(self)
        return box is not None

    # ---- per-class settings --------------------------------------------------------------------
    def setting(self, key: SettingKey) -> Any:
        kind, cls = key
        if kind == "style":
            return self.styles.get(cls)
        if kind == "shape":
            return self.shapes.get(cls)
        if kind == "shape_all":
            return self.shape_all
        if kind == "fit":
            return self.fit
        raise KeyError(f"unknown setting {key!r}")

    def change_settings(
        self, changes: dict[SettingKey, Any], label: str, merge_key: Hashable | None = None
    ) -> None:
        """Set several settings as one undo step; ``merge_key`` folds a slider drag into one step."""
        atoms = []
        for key, value in changes.items():
            old = self.setting(key)
            if old != value:
                atoms.append(SettingAtom(key, old, value))
        if not atoms:
            return
        for atom in atoms:
            self.restore_setting(atom.key, atom.new)
        self.history.push(Step(label, atoms, merge_key))

    def set_style(self, cls: int, source: StyleSource | None, merge_key: Hashable | None = None) -> None:
        label = f"Style of {self.classes[cls].label}"
        self.change_settings({("style", cls): _none_if_own(source)}, label, merge_key)

    def set_shape(self, cls: int, source: ShapeSource | None, merge_key: Hashable | None = None) -> None:
        self.change_settings({("shape", cls): source}, f"Shape of {self.classes[cls].label}", merge_key)

    def set_shape_all(self, source: ShapeSource | None, merge_key: Hashable | None = None) -> None:
        self.change_settings({("shape_all", None): source}, "Whole-face shape", merge_key)

    def set_fit(self, fit: FitRecord | None, label: str | None = None) -> None:
        """Give the face a fit (or remove it, ``None``) as one undo step."""
        self.change_settings({("fit", None): fit}, label or ("Fit to photo" if fit else "Remove fit"))

    def style_of(self, cls: int) -> StyleSource:
        return self.styles.get(cls, StyleSource())

    # ---- undo plumbing (called by history atoms) ------------------------------------------------
    def restore_mask_region(self, box: mask_ops.Box, values: np.ndarray) -> None:
        self.mask[box] = values
        self._touch()
        self._emit("mask", box)

    def restore_setting(self, key: SettingKey, value: Any) -> None:
        kind, cls = key
        target = {"style": self.styles, "shape": self.shapes}.get(kind)
        if target is not None:
            if value is None:
                target.pop(cls, None)
            else:
                target[cls] = value
        elif kind == "shape_all":
            self.shape_all = value
        elif kind == "fit":
            self.fit = value
        self._touch()
        self._emit("setting", key)

    def undo(self) -> bool:
        self.abort_stroke()
        return self.history.undo(self) is not None

    def redo(self) -> bool:
        self.abort_stroke()
        return self.history.redo(self) is not None

    # ---- references and view state ------------------------------------------------------------
    def add_reference(self, ref: ReferenceFace) -> ReferenceFace:
        """Add (or find the identical) reference face; returns the stored one."""
        if ref.key in self.references:
            return self.references[ref.key]
        self.references[ref.key] = ref
        self._touch()
        self._emit("references")
        return ref

    def set_locked(self, cls: int, locked: bool) -> None:
        (self.locked.add if locked else self.locked.discard)(cls)
        self._emit("view", ("locked", cls))

    def set_hidden(self, cls: int, hidden: bool) -> None:
        (self.hidden.add if hidden else self.hidden.discard)(cls)
        self._emit("view", ("hidden", cls))

    def set_attention_class(self, cls: int | None) -> None:
        self.attention_class = cls
        self._emit("view", ("attention", cls))

    def pixel_counts(self) -> np.ndarray:
        return mask_ops.pixel_counts(self.mask, len(self.classes))


def _none_if_own(source: StyleSource | None) -> StyleSource | None:
    # "own" is the default: storing it as absent keeps requests and project files minimal.
    return None if source is None or source.kind == "own" else source
