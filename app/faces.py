"""Turning a photo file into an editable face (Qt-free; runs on the worker thread).

With the photo pipeline installed this is :func:`ca2sis.photo.portrait.open_portrait`: detect, choose a face,
align to CelebA-HQ framing, parse. A face image that has its mask stored next to it (a data set's
``images/`` + ``masks/``, or ``<name>_mask.png``) opens as that pair, already aligned and labelled.
Without the pipeline, any other image opens as a whole-image face with an empty mask and a warning.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from app.document import PhotoContext
from app.services import FaceNotFound, Services, center_square, sibling_mask
from ca2sis.classes import ClassTable

Progress = Callable[[str, float], None]
EYES_IN_FRAMING = 125.3 / 512  # the eye distance in the CelebA-HQ framing, as a share of its side


@dataclass
class OpenedFace:
    name: str
    aligned: np.ndarray  # RGB, square
    mask: np.ndarray  # index mask of the same size
    context: PhotoContext | None
    faces: list[Any] = field(default_factory=list)  # ca2sis.photo.align.FaceBox list (empty without detection)
    face_index: int | None = None
    warnings: list[str] = field(default_factory=list)


def open_face(
    services: Services,
    path: Path,
    classes: ClassTable,
    face_index: int | None = None,
    whole_image: bool = False,
    progress: Progress | None = None,
) -> OpenedFace:
    path = Path(path)
    if services.open_portrait is not None and sibling_mask(path) is None:
        try:
            p = services.open_portrait(
                path, face_index=face_index, whole_image_if_no_face=whole_image, progress=progress
            )
        except services.no_face_errors as exc:
            raise FaceNotFound(str(exc) or f"no face found in {path.name}") from exc
        warnings = list(getattr(p, "warnings", []) or [])
        pad = tuple(getattr(p, "pad", (0, 0)) or (0, 0))
        context = PhotoContext(p.photo, p.transform, p.face_index, warnings, pad)
        return OpenedFace(path.stem, p.aligned, p.mask, context, list(p.faces or []), p.face_index, warnings)
    return _open_without_pipeline(services, path, classes, progress)


def face_side(face: Any) -> float | None:
    """The side in photo pixels of a detected face's CelebA-HQ-framed square (None when unknown)."""
    side = getattr(face, "crop_side", None)
    return float(side) if side is not None else None


def too_small(face: Any, resolution: int | None) -> str | None:
    """Why ``face`` would come out soft on a model drawing ``resolution``² faces, or None when it is big
    enough: the model would have to enlarge the photo's pixels, so an edit looks blurred."""
    side = face_side(face)
    if side is None or not resolution or side >= resolution:
        return None
    return (f"This face is small: its square is {side:.0f} px in the photo, and the model draws "
            f"{resolution} px, so the edited face would be enlarged {resolution / side:.1f}× and look soft. "
            f"A sharp result needs a face whose square is at least {resolution} px (eyes about "
            f"{resolution * EYES_IN_FRAMING:.0f} px apart).")


def _open_without_pipeline(
    services: Services, path: Path, classes: ClassTable, progress: Progress | None
) -> OpenedFace:
    if progress:
        progress("reading the photo", 0.1)
    image = services.load_image(path)
    mask_path = sibling_mask(path)
    warnings: list[str] = []
    if mask_path is not None:
        mask = services.load_mask(mask_path, classes)
        if image.shape[:2] != mask.shape:
            image = np.asarray(Image.fromarray(image).resize(mask.shape[::-1], Image.Resampling.LANCZOS))
        warnings.append(f"mask taken from {mask_path.name}")
    else:
        image = center_square(image, 512)
        mask = np.zeros(image.shape[:2], np.uint8)
        warnings.append("face detection and parsing are not installed: the whole image is the face and the mask "
                        "starts empty; paint it, or open a mask (Ctrl+M)")
    if progress:
        progress("done", 1.0)
    return OpenedFace(path.stem, image, mask, PhotoContext(image, None, None, warnings), [], None, warnings)
