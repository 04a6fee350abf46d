"""One call from a photo to an editable face: decode, detect, align, parse.

``open_portrait(path)`` gives a :class:`Portrait` holding the full-resolution photo, every face found,
the chosen face as a 512² CelebA-HQ crop with its 19-class mask, the transform back into the photo,
and the warnings a user should see (several faces, a tiny face, a reduced huge photo).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from ca2sis.parsing import Parser, load_parser
from ca2sis.photo import PhotoError, load_photo
from ca2sis.photo.align import TINY_FACE_PX, AlignTransform, FaceBox, NoFaceError, align_face, detect_faces, paste_back

ALIGNED_SIZE = 512  # parsing works at 512²; the synthesis model gets a 256² downscale
Progress = Callable[[str, float], None]


@dataclass
class Portrait:
    photo: np.ndarray  # full-resolution RGB
    faces: list[FaceBox]
    face_index: int  # -1 when the whole image is the face
    aligned: np.ndarray  # 512×512×3 RGB
    mask: np.ndarray  # 512×512 uint8 CelebAMask-HQ ids
    transform: AlignTransform | None  # None when the whole image was used as the face
    warnings: list[str] = field(default_factory=list)
    source: str = ""
    pad: tuple[int, int] = (0, 0)  # whole-image mode: (left, top) padding added to make it square

    @property
    def face(self) -> FaceBox | None:
        return self.faces[self.face_index] if self.transform is not None else None

    def aligned_at(self, size: int = 256) -> np.ndarray:
        """The aligned face at another size (area-averaged when shrinking)."""
        interp = cv2.INTER_AREA if size < ALIGNED_SIZE else cv2.INTER_CUBIC
        return cv2.resize(self.aligned, (size, size), interpolation=interp)

    def paste(self, result: np.ndarray, face_mask: np.ndarray | None = None, **kwargs) -> np.ndarray:
        """An edited aligned face (any square size) put back into the full-resolution photo."""
        if self.transform is not None:
            return paste_back(self.photo, result, self.transform, face_mask, **kwargs)
        h, w = self.photo.shape[:2]
        side = max(h, w)
        full = cv2.resize(np.asarray(result), (side, side), interpolation=cv2.INTER_CUBIC)
        return np.ascontiguousarray(full[self.pad[1] : self.pad[1] + h, self.pad[0] : self.pad[0] + w])

    def mask_in_photo(self, mask: np.ndarray | None = None) -> np.ndarray:
        """The (or a) 512² mask at the photo's resolution; outside the aligned crop is background."""
        mask = self.mask if mask is None else mask
        h, w = self.photo.shape[:2]
        if self.transform is None:
            side = max(h, w)
            full = cv2.resize(mask, (side, side), interpolation=cv2.INTER_NEAREST)
            return np.ascontiguousarray(full[self.pad[1] : self.pad[1] + h, self.pad[0] : self.pad[0] + w])
        t = self.transform.for_size(mask.shape[0])
        return cv2.warpAffine(
            mask, t.matrix, (w, h), flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_CONSTANT, borderValue=0,
        )

    def with_face(self, face_index: int, parser: Parser | None = None) -> Portrait:
        """The same photo with another of its detected faces chosen (no new detection)."""
        if not 0 <= face_index < len(self.faces):
            raise ValueError(f"face {face_index} does not exist; {len(self.faces)} face(s) were found")
        parser = parser or load_parser("auto")
        aligned, transform = align_face(self.photo, self.faces[face_index], ALIGNED_SIZE)
        warnings = [w for w in self.warnings if not w.startswith("the face is only")]
        warnings += _size_warnings(self.faces[face_index])
        return replace(self, face_index=face_index, aligned=aligned, transform=transform,
                       mask=parser.parse(aligned), warnings=warnings, pad=(0, 0))


def as_rgb(array: np.ndarray) -> np.ndarray:
    """An in-memory image (gray, RGB, RGBA; uint8 or 16-bit or float) as H×W×3 uint8."""
    a = np.asarray(array)
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[2] not in (1, 3, 4) or min(a.shape[:2]) < 1:
        raise PhotoError(f"an image array must be H×W, H×W×3 or H×W×4, got shape {a.shape}")
    if a.dtype == np.uint16:
        a = (a.astype(np.float32) / 257.0 + 0.5).astype(np.uint8)
    elif a.dtype.kind == "f":
        a = (np.clip(a, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    elif a.dtype != np.uint8:
        raise PhotoError(f"image arrays must be uint8, uint16 or float in [0, 1], got {a.dtype}")
    if a.shape[2] == 1:
        a = np.repeat(a, 3, axis=2)
    elif a.shape[2] == 4:  # composite over white, like transparent files
        alpha = a[..., 3:].astype(np.float32) / 255.0
        a = (a[..., :3] * alpha + 255.0 * (1.0 - alpha) + 0.5).astype(np.uint8)
    return np.ascontiguousarray(a)


def _size_warnings(face: FaceBox) -> list[str]:
    size = face.face_size
    if size < TINY_FACE_PX:
        return [f"the face is only {size:.0f} px wide (under {TINY_FACE_PX}); the edit will look soft"]
    return []


def _square_whole(photo: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """The whole photo padded (edge colours) to a square and resized to 512²."""
    h, w = photo.shape[:2]
    side = max(h, w)
    left, top = (side - w) // 2, (side - h) // 2
    sq = cv2.copyMakeBorder(photo, top, side - h - top, left, side - w - left, cv2.BORDER_REPLICATE)
    interp = cv2.INTER_AREA if side > ALIGNED_SIZE else cv2.INTER_CUBIC
    return cv2.resize(sq, (ALIGNED_SIZE, ALIGNED_SIZE), interpolation=interp), (left, top)


def open_portrait(
    source: str | Path | np.ndarray,
    parser: Parser | None = None,
    face_index: int | None = None,
    whole_image_if_no_face: bool = False,
    aligned: bool = False,
    progress: Progress | None = None,
    detector: str = "auto",
) -> Portrait:
    """Photo (file or array) → :class:`Portrait` with the chosen face aligned and parsed.

    ``face_index`` picks among the detected faces (largest first; default the largest).
    ``aligned=True`` takes the image as an already CelebA-HQ-framed crop and skips detection.
    ``whole_image_if_no_face`` uses the whole image as the face instead of raising
    :class:`~ca2sis.photo.align.NoFaceError`. ``progress(stage, fraction)`` is called between stages.
    """
    report = progress or (lambda stage, frac: None)
    report("reading the photo", 0.0)
    warnings: list[str] = []
    if isinstance(source, np.ndarray):
        photo, name = as_rgb(source), "image"
    else:
        loaded = load_photo(source)
        photo, name = loaded.rgb, str(source)
        warnings += loaded.warnings
    parser = parser or load_parser("auto")
    faces: list[FaceBox] = []
    transform = None
    pad = (0, 0)
    if aligned:
        h, w = photo.shape[:2]
        if abs(h - w) > 0.02 * max(h, w):
            warnings.append(f"an aligned crop should be square; {w}×{h} was padded to a square")
        crop, pad = _square_whole(photo)
        index = -1
    else:
        report("finding faces", 0.2)
        faces = detect_faces(photo, detector)
        if not faces and not whole_image_if_no_face:
            raise NoFaceError(
                f"no face found in {name}; try a photo where the face is upright and visible, "
                "or use the whole image as the face"
            )
        if not faces:
            warnings.append("no face found; the whole image is used as the face")
            crop, pad = _square_whole(photo)
            index = -1
        else:
            index = 0 if face_index is None else face_index
            if not 0 <= index < len(faces):
                raise ValueError(f"face {index} does not exist; {len(faces)} face(s) were found in {name}")
            if len(faces) > 1 and face_index is None:
                warnings.append(f"{len(faces)} faces found; using the largest (pick another by its index)")
            warnings += _size_warnings(faces[index])
            report("aligning", 0.6)
            crop, transform = align_face(photo, faces[index], ALIGNED_SIZE)
    report("parsing", 0.7)
    mask = parser.parse(crop)
    report("done", 1.0)
    return Portrait(photo, faces, index, crop, mask, transform, warnings, name, pad)
