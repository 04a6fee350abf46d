"""Finding image/label pairs on disk and reading them, with errors that name the file."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ca2sis.safe_files import MASK_FORMATS, MAX_MASK_PIXELS, PHOTO_FORMATS, open_image

log = logging.getLogger(__name__)

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
LABEL_EXTS = (".png", ".bmp", ".tif", ".tiff")


class DataError(ValueError):
    """A data set problem (missing pair, unreadable file, label out of range); names the file."""


@dataclass(frozen=True)
class Pair:
    image: Path
    label: Path

    @property
    def name(self) -> str:
        return self.image.stem


def natural_key(text: str) -> list[object]:
    """Sort key that orders ``2.jpg`` before ``10.jpg``, as the recipe's loader does."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", text)]


def _files(folder: Path, exts: tuple[str, ...]) -> dict[str, Path]:
    if not folder.is_dir():
        raise DataError(f"folder not found: {folder}")
    return {p.stem: p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in exts}


def find_pairs(image_dir: Path, label_dir: Path, strict: bool = False) -> list[Pair]:
    """Pair ``x.jpg`` with ``x.png`` by base name; unmatched files are reported (or raise if strict)."""
    images = _files(Path(image_dir), IMAGE_EXTS)
    labels = _files(Path(label_dir), LABEL_EXTS)
    lonely_images = sorted(set(images) - set(labels), key=natural_key)
    lonely_labels = sorted(set(labels) - set(images), key=natural_key)
    for names, kind, other in ((lonely_images, "image", label_dir), (lonely_labels, "label", image_dir)):
        if not names:
            continue
        example = (images if kind == "image" else labels)[names[0]]
        message = f"{len(names)} {kind}(s) have no partner in {other}, e.g. {example}"
        if strict:
            raise DataError(message)
        log.warning("%s; they are skipped", message)
    names = sorted(set(images) & set(labels), key=natural_key)
    if not names:
        raise DataError(f"no image/label pairs in {image_dir} and {label_dir} (pairs share a base name)")
    return [Pair(images[n], labels[n]) for n in names]


def read_image(path: Path) -> Image.Image:
    try:
        with open_image(path, "image", MAX_MASK_PIXELS, PHOTO_FORMATS) as im:
            return im.convert("RGB")
    except Exception as exc:  # PIL raises many types for broken files
        raise DataError(f"cannot read image {path}: {exc}") from exc


def read_label(path: Path, num_classes: int, ignore_value: int | None = None) -> np.ndarray:
    """Index label H×W (int64). Palettised PNGs are read as indices, never as colours."""
    try:
        with open_image(path, "label", MAX_MASK_PIXELS, MASK_FORMATS) as im:
            if im.mode in ("RGB", "RGBA"):
                raise DataError(
                    f"label {path} is an RGB image; labels must be single-channel index maps (pixel value = class id)"
                )
            arr = np.array(im)
    except DataError:
        raise
    except Exception as exc:
        raise DataError(f"cannot read label {path}: {exc}") from exc
    if arr.ndim != 2:
        raise DataError(f"label {path} has shape {arr.shape}; expected a single-channel index map")
    arr = arr.astype(np.int64)
    if ignore_value is not None:
        arr[arr == ignore_value] = 0
    top = int(arr.max(initial=0))
    if top >= num_classes or int(arr.min(initial=0)) < 0:
        raise DataError(f"label {path} holds class id {top}, outside 0..{num_classes - 1}")
    return arr
