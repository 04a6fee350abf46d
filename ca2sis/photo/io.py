"""Reading and writing photos and masks.

``load_image`` turns whatever a user opens (JPEG with an EXIF rotation, 16-bit PNG, grayscale, RGBA,
CMYK, palette GIF, a 50-megapixel camera file) into an H×W×3 uint8 RGB array, or raises
:class:`PhotoError` with a message that names the file and the problem. Writes are atomic: a
temporary file in the target folder is renamed over the target, so a crash never leaves half a file.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from ca2sis.atomic import atomic_write
from ca2sis.classes import CELEBAMASK_HQ, ClassTable
from ca2sis.safe_files import MASK_FORMATS, MAX_MASK_PIXELS, PHOTO_FORMATS, FileRefused, open_image


def _import_cv2_without_its_qt() -> None:
    """Import OpenCV, then undo the Qt plugin/font paths its pip wheel sets on Linux.

    opencv-python points ``QT_QPA_PLATFORM_PLUGIN_PATH`` at its own ``libqxcb.so``, built against
    another Qt; PySide6 would then load that plugin and may refuse to start. Only paths into cv2's
    own folder are removed, so a path the user set is kept.
    """
    import cv2

    cv2_dir = os.path.dirname(os.path.abspath(cv2.__file__))
    for key in ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_QPA_FONTDIR"):
        value = os.environ.get(key)
        if value and os.path.abspath(value).startswith(cv2_dir):
            del os.environ[key]


_import_cv2_without_its_qt()

# Above this many pixels a photo is reduced while decoding (JPEG draft mode, so the full-size
# bitmap never exists in memory). 8000×6000 still loads at full size.
MAX_PIXELS = 50_000_000
# Formats without reduced decoding (PNG, TIFF) are decoded whole and then box-reduced, so they are
# refused beyond this: a 400 MP PNG of a few hundred kB would take gigabytes and minutes.
HARD_MAX_PIXELS = 120_000_000
# JPEGs decode at down to 1/8 of each side: one that claims 400 MP decodes as at most 6 MP.
JPEG_MAX_PIXELS = 400_000_000

MASK_SUFFIXES = (".png",)


class PhotoError(FileRefused):
    """A file that cannot be used as a photo or a mask; the message says which and why."""


@dataclass
class LoadedPhoto:
    rgb: np.ndarray  # H×W×3 uint8
    original_size: tuple[int, int]  # (w, h) after EXIF rotation, before any reduction
    downscaled: bool = False
    warnings: list[str] = field(default_factory=list)


def _to_rgb(img: Image.Image) -> np.ndarray:
    """Any PIL mode → H×W×3 uint8 RGB."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        # 16-bit / 32-bit grayscale: scale to 8 bits by the range the format implies.
        a = np.asarray(img, dtype=np.float64)
        top = 1.0 if mode == "F" and a.max(initial=0) <= 1.0 else 255.0 if mode == "F" else 65535.0
        if mode == "I" and a.max(initial=0) <= 255:
            top = 255.0
        g = np.clip(a / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(g[..., None], 3, axis=2)
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in img.info):
        # Transparent pixels become white, the usual backdrop of a cut-out portrait.
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
    if mode != "RGB":
        img = img.convert("RGB")  # L, 1, P, CMYK, YCbCr, LAB, HSV
    return np.asarray(img)


def _reduced(img: Image.Image, max_pixels: int) -> Image.Image:
    """Shrink by the smallest whole factor that fits ``max_pixels``: a box filter, seconds faster than
    a Lanczos resample on a 100 MP bitmap and as good for a photo that is still several megapixels."""
    w, h = img.size
    if w * h <= max_pixels:
        return img
    factor = math.ceil(math.sqrt(w * h / max_pixels))
    while (w // factor) * (h // factor) > max_pixels:
        factor += 1
    return img.reduce(factor)


def load_photo(path: str | Path, max_pixels: int = MAX_PIXELS) -> LoadedPhoto:
    """Decode a photo, reporting whether it had to be reduced to fit ``max_pixels``."""
    path = Path(path)
    warnings: list[str] = []
    try:
        with open_image(path, "photo", JPEG_MAX_PIXELS, PHOTO_FORMATS) as img:
            w, h = img.size
            if w * h > max_pixels and img.format in ("JPEG", "MPO"):
                # Draft mode decodes at 1/2, 1/4 or 1/8 straight from the DCT: no full-size bitmap.
                factor = (w * h / max_pixels) ** 0.5
                img.draft(img.mode, (int(w / factor), int(h / factor)))
            elif w * h > HARD_MAX_PIXELS:
                raise PhotoError(
                    f"{path}: {w}×{h} is too large to decode safely ({w * h / 1e6:.0f} MP; "
                    f"the limit is {HARD_MAX_PIXELS / 1e6:.0f} MP for {img.format} files); reduce it first"
                )
            # EXIF orientations 5–8 turn the picture by 90°, swapping width and height.
            orientation = img.getexif().get(0x0112, 1)
            original = (h, w) if orientation in (5, 6, 7, 8) else (w, h)
            img.load()
            turned = ImageOps.exif_transpose(img) or img
            rgb = _to_rgb(_reduced(turned, max_pixels))
    except PhotoError:
        raise
    except FileRefused as exc:
        raise PhotoError(str(exc)) from None
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError, MemoryError) as exc:
        raise PhotoError(f"{path}: the file is damaged or truncated ({exc})") from exc
    downscaled = rgb.shape[0] * rgb.shape[1] < original[0] * original[1]
    if downscaled:
        warnings.append(
            f"{path.name}: {original[0]}×{original[1]} was reduced to {rgb.shape[1]}×{rgb.shape[0]} "
            "to fit in memory"
        )
    return LoadedPhoto(np.array(rgb, dtype=np.uint8), original, downscaled, warnings)  # writable copy


def load_image(path: str | Path, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """H×W×3 uint8 RGB with EXIF orientation applied; see :func:`load_photo` for the reduced flag."""
    return load_photo(path, max_pixels).rgb


def load_mask(path: str | Path, classes: ClassTable = CELEBAMASK_HQ) -> np.ndarray:
    """H×W uint8 class-id mask from an index PNG (L or P) or a colour PNG in ``classes``' palette."""
    path = Path(path)
    try:
        with open_image(path, "mask", MAX_MASK_PIXELS, MASK_FORMATS) as img:
            mode = img.mode
            if mode in ("P", "L", "I", "I;16", "I;16B", "I;16L"):
                img.load()
                ids = np.asarray(img)  # P: the palette index is the class id
            elif mode in ("RGB", "RGBA"):
                rgb = np.asarray(img.convert("RGB"))
                if (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all():
                    ids = rgb[..., 0]  # gray ids stored as RGB
                else:
                    try:
                        ids = classes.decolorize(rgb)
                    except ValueError as exc:
                        raise PhotoError(f"{path}: not a {classes.name} colour mask: {exc}") from exc
            else:
                raise PhotoError(f"{path}: mask mode {mode} is neither an index (L/P) nor a colour (RGB) PNG")
    except PhotoError:
        raise
    except FileRefused as exc:
        raise PhotoError(str(exc)) from None
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
        raise PhotoError(f"{path}: the mask file is damaged or truncated ({exc})") from exc
    if ids.ndim != 2:
        raise PhotoError(f"{path}: a mask has one value per pixel, this file has shape {ids.shape}")
    if ids.size:
        lo, hi = int(ids.min()), int(ids.max())
        if hi >= len(classes) or lo < 0:
            raise PhotoError(
                f"{path}: holds class id {hi if hi >= len(classes) else lo}, "
                f"but {classes.name} has ids 0..{len(classes) - 1}"
            )
    return ids.astype(np.uint8)


def _atomic_save(path: Path, img: Image.Image, **params) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None:
        raise PhotoError(f"{path}: unknown image file type {path.suffix!r}; use .png or .jpg")
    atomic_write(path, lambda tmp: img.save(tmp, format=fmt, **params))


def save_image(path: str | Path, rgb: np.ndarray) -> None:
    """Save an H×W×3 uint8 RGB array (format from the suffix; JPEG at quality 95)."""
    path = Path(path)
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise PhotoError(f"{path}: expected an H×W×3 uint8 image, got {rgb.shape} {rgb.dtype}")
    params = {"quality": 95} if path.suffix.lower() in (".jpg", ".jpeg", ".webp") else {}
    _atomic_save(path, Image.fromarray(np.ascontiguousarray(rgb), "RGB"), **params)


def save_mask(
    path: str | Path, mask: np.ndarray, colour: bool = False, classes: ClassTable = CELEBAMASK_HQ
) -> None:
    """Save a class-id mask as a PNG.

    By default a palettised PNG: the pixel values are the ids (what training code reads) and the
    palette holds the class colours (what an image viewer shows). ``colour=True`` writes plain RGB.
    """
    path = Path(path)
    if path.suffix.lower() not in MASK_SUFFIXES:
        raise PhotoError(f"{path}: masks are saved as .png; lossy formats would change class ids")
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise PhotoError(f"{path}: a mask is H×W, got shape {mask.shape}")
    if mask.size and (int(mask.max()) >= len(classes) or int(mask.min()) < 0):
        raise PhotoError(f"{path}: mask holds id {int(mask.max())}; {classes.name} has 0..{len(classes) - 1}")
    mask = np.ascontiguousarray(mask.astype(np.uint8))
    if colour:
        img = Image.fromarray(classes.colorize(mask), "RGB")
    else:
        img = Image.fromarray(mask, "P")
        pal = np.zeros((256, 3), dtype=np.uint8)
        pal[: len(classes)] = classes.palette()
        img.putpalette(pal.ravel().tolist())
    _atomic_save(path, img)
