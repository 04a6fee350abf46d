"""Exports: animations of a style or shape interpolation, and the result pasted into the photo.

Qt-free. Animations are written with imageio: GIF through Pillow, MP4 through imageio-ffmpeg; like
every other write, through :func:`ca2sis.atomic.atomic_write`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from app.document import Document
from app.render_bridge import RenderPlan, plan_for
from ca2sis.atomic import atomic_write
from ca2sis.requests import ShapeSource

ANIMATION_SUFFIXES = (".gif", ".mp4")


def animation_plans(doc: Document, kind: str, cls: int | None, frames: int, bounce: bool = True) -> list[RenderPlan]:
    """Plans that sweep α from 0 to 1 (and back, with ``bounce``) for one class's style or shape,
    or for the whole-face shape when ``cls`` is None."""
    if frames < 2:
        raise ValueError("an animation needs at least 2 frames")
    alphas = list(np.linspace(0.0, 1.0, frames))
    if bounce:
        alphas += alphas[-2:0:-1]
    if kind == "style":
        if cls is None:
            raise ValueError("choose a class for a style animation")
        base = doc.style_of(cls)
        if base.kind == "own":
            raise ValueError(f"{doc.classes[cls].label} has its own style; give it a reference or random style first")
        return [plan_for(doc, styles={cls: dataclasses.replace(base, alpha=float(a))}, attention=False) for a in alphas]
    if kind == "shape":
        shape: ShapeSource | None = doc.shape_all if cls is None else doc.shapes.get(cls)
        if shape is None:
            what = "the whole face" if cls is None else doc.classes[cls].label
            raise ValueError(f"{what} has no shape reference; choose one in the Shapes panel first")
        steps = [dataclasses.replace(shape, alpha=float(a)) for a in alphas]
        if cls is None:
            return [plan_for(doc, shape_all=s, attention=False) for s in steps]
        return [plan_for(doc, shapes={cls: s}, attention=False) for s in steps]
    raise ValueError(f"unknown animation kind {kind!r}")


def write_animation(path: Path, frames: list[np.ndarray], fps: float = 12.0) -> Path:
    import imageio.v3 as iio

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in ANIMATION_SUFFIXES:
        raise ValueError(f"animations are written as {' or '.join(ANIMATION_SUFFIXES)}, not {suffix or 'no suffix'}")
    if not frames:
        raise ValueError("no frames to write")
    stack = np.stack([np.ascontiguousarray(f, dtype=np.uint8) for f in frames])
    if suffix == ".mp4":
        try:
            import imageio_ffmpeg  # noqa: F401  (only to give a clear message when it is missing)
        except ImportError as exc:
            raise ValueError("MP4 export needs the imageio-ffmpeg package (pip install imageio-ffmpeg)") from exc

    def write(tmp: Path) -> None:
        if suffix == ".gif":
            iio.imwrite(tmp, stack, extension=".gif", duration=1000.0 / fps, loop=0)
        else:
            iio.imwrite(tmp, stack, extension=".mp4", fps=fps, codec="libx264", macro_block_size=8)

    # Like every other file the program writes: atomic, with the permissions open() would give.
    return atomic_write(path, write, suffix=suffix)


def edit_reach(doc: Document) -> tuple[set[int], np.ndarray | None]:
    """(restyled classes, where a shape morph may move a class or None): what the edit changed
    besides the painted mask, for pasting only the edited person back into the photo."""
    restyled = {c for c, source in doc.styles.items() if source.kind != "own"}
    reach = np.zeros(doc.mask.shape, bool)
    morphs = [(c, s) for c, s in doc.shapes.items()] + ([(None, doc.shape_all)] if doc.shape_all else [])
    for cls, source in morphs:
        ref = doc.references.get(source.reference)
        if ref is None:
            continue
        ref_mask = np.asarray(Image.fromarray(ref.mask).resize(doc.mask.shape[::-1], Image.Resampling.NEAREST))
        # A morph moves a class between its own outline and the reference's: both bound it.
        classes = doc.classes.person() if cls is None else (cls,)
        reach |= np.isin(ref_mask, classes) | np.isin(doc.mask, classes)
    return restyled, (reach if reach.any() else None)


def pasted_into_photo(doc: Document, result: np.ndarray, paste: Any) -> np.ndarray:
    """The generated face put back into the full photo (through the alignment's inverse).

    ``paste`` is :func:`ca2sis.photo.align.paste_edit`: only the person's classes of the original and the
    edited mask, what was painted and what a morph may reach are pasted, feathered and colour-matched,
    so the photo keeps its own background unless the background class was restyled.
    """
    if doc.context is None:
        raise ValueError("this face has no original photo to paste into (it was opened from a mask or a project "
                         "without one)")
    if doc.context.transform is None:  # the whole image (padded to a square) was the face
        h, w = doc.context.photo.shape[:2]
        left, top = doc.context.pad
        side = max(h + 2 * top, w + 2 * left, h, w)
        square = np.asarray(Image.fromarray(result).resize((side, side), Image.Resampling.LANCZOS))
        return square[top : top + h, left : left + w].copy()
    if paste is None:
        raise ValueError("pasting back needs the photo pipeline (ca2sis.photo.align), which is not available")
    restyled, reshaped = edit_reach(doc)
    return paste(doc.context.photo, result, doc.context.transform, doc.original_mask, doc.mask, doc.classes,
                 restyled, reshaped)
