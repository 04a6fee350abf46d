"""The library pieces the editor calls, found at run time.

The GUI must start even when a piece is missing (a trimmed install, a broken optional dependency):
each piece is imported inside a guard, a plain fallback takes over where one makes sense (Pillow for
image files), and :attr:`Services.missing` says what is unavailable and why, for the status bar and
the first-run panel. Tests pass their own :class:`Services` with fakes.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from ca2sis.atomic import atomic_write
from ca2sis.classes import ClassTable

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


@dataclass(frozen=True)
class ModelHint:
    name: str
    installed: bool
    description: str
    how_to_get: str


class FaceNotFound(ValueError):
    """No face in a photo (wraps the pipeline's own NoFaceError so the GUI needs no import of it)."""


@dataclass
class Services:
    load_editor: Callable[[Path, str], Any] | None = None  # (weights, device) -> Editor
    default_model: Callable[[], Path | None] = lambda: None
    open_portrait: Callable[..., Any] | None = None
    paste_back: Callable[..., np.ndarray] | None = None  # ca2sis.photo.align.paste_edit's signature
    load_image: Callable[[Path], np.ndarray] = field(default=lambda p: _pil_load_image(p))
    load_mask: Callable[[Path, ClassTable], np.ndarray] = field(default=lambda p, c: _pil_load_mask(p, c))
    save_image: Callable[[Path, np.ndarray], None] = field(default=lambda p, a: _pil_save(p, a))
    save_mask: Callable[..., None] = field(
        default=lambda p, m, colour=False, classes=None: _pil_save_mask(p, m, colour, classes)
    )
    model_hints: Callable[[], list[ModelHint]] = list  # known synthesis models, for the first-run panel
    register_model: Callable[[Path], Path] | None = None  # copy into the models folder as the default
    no_face_errors: tuple[type[BaseException], ...] = (FaceNotFound,)
    missing: dict[str, str] = field(default_factory=dict)  # piece → why it is unavailable


def _guard(missing: dict[str, str], piece: str, importer: Callable[[], Any]) -> Any:
    try:
        return importer()
    except Exception as exc:  # an ImportError, or a library that fails while importing
        missing[piece] = f"{type(exc).__name__}: {exc}"
        log.info("%s unavailable: %s", piece, missing[piece])
        return None


def discover() -> Services:
    """The real pieces, each one that imports; fallbacks for the rest."""
    missing: dict[str, str] = {}
    services = Services(missing=missing)

    def editor():
        if importlib.util.find_spec("ca2sis.editor") is None:
            raise ImportError("No module named 'ca2sis.editor'")

        def load(path: Path, device: str) -> Any:
            # Imported here, on the worker thread: torch takes seconds to import, the window shows at once.
            from ca2sis.device import use_interactive_threads
            from ca2sis.editor import Editor

            use_interactive_threads()  # on the thread that renders; the GUI thread keeps a core
            return Editor.load(path, device=device)

        return load

    services.load_editor = _guard(missing, "model (ca2sis.editor)", editor)

    def weights():
        from ca2sis.weights import default_model

        return default_model

    default_model = _guard(missing, "model manager (ca2sis.weights)", weights)
    if default_model is not None:
        services.default_model = default_model
        services.model_hints = _model_hints
        services.register_model = _register_model

    photo = _guard(missing, "photo files (ca2sis.photo)", lambda: __import__("ca2sis.photo", fromlist=["x"]))
    if photo is not None:
        services.load_image = photo.load_image
        services.load_mask = photo.load_mask
        services.save_image = photo.save_image

        def save_mask(path, mask, colour=False, classes=None):
            photo.save_mask(path, mask, colour=colour)

        services.save_mask = save_mask
    portrait = _guard(missing, "face detection and parsing (ca2sis.photo.portrait)",
                      lambda: __import__("ca2sis.photo.portrait", fromlist=["x"]))
    if portrait is not None:
        services.open_portrait = portrait.open_portrait
    align = _guard(missing, "alignment (ca2sis.photo.align)", lambda: __import__("ca2sis.photo.align", fromlist=["x"]))
    if align is not None:
        services.paste_back = align.paste_edit
        services.no_face_errors = (FaceNotFound, align.NoFaceError)
    return services


def _register_model(path: Path) -> Path:
    from ca2sis import paths, weights

    entry = weights.register_model(path, make_default=True)
    return paths.user_models_dir() / entry.file


def _model_hints() -> list[ModelHint]:
    from ca2sis import weights

    try:
        models = weights.list_models("synthesis")
    except ValueError as exc:  # a damaged manifest: say so instead of listing nothing
        return [ModelHint("(model manifest)", False, str(exc), "")]
    return [ModelHint(m.entry.name, m.installed, m.entry.description,
                      "" if m.installed else weights.how_to_get(m.entry)) for m in models]


# ---- fallbacks -----------------------------------------------------------------------------------
# Pillow alone, but through the same guarded opening as the full pipeline (regular files only, pixel
# caps from the header), so a pipe or a bomb is refused here too.
def _pil_load_image(path: Path) -> np.ndarray:
    from ca2sis.safe_files import MAX_MASK_PIXELS, open_image

    try:
        with open_image(path, "photo", MAX_MASK_PIXELS) as im:
            return np.asarray(ImageOps.exif_transpose(im).convert("RGB")).copy()
    except (OSError, EOFError, SyntaxError) as exc:
        raise ValueError(f"{Path(path).name} is not a readable image ({exc})") from exc


def _pil_load_mask(path: Path, classes: ClassTable) -> np.ndarray:
    from ca2sis.safe_files import MASK_FORMATS, MAX_MASK_PIXELS, open_image

    try:
        with open_image(path, "mask", MAX_MASK_PIXELS, MASK_FORMATS) as im:
            if im.mode in ("L", "P", "I;16", "I"):
                mask = np.asarray(im).astype(np.int64)
                if mask.size and (mask.max() >= len(classes) or mask.min() < 0):
                    name = Path(path).name
                    raise ValueError(f"{name} holds class id {mask.max()}; {classes.name} has {len(classes)}")
                return mask.astype(np.uint8)
            if im.mode not in ("RGB", "RGBA"):
                raise ValueError(f"{Path(path).name}: mask mode {im.mode} is neither an index nor a colour image")
            return classes.decolorize(np.asarray(im.convert("RGB")))
    except (OSError, EOFError, SyntaxError) as exc:
        raise ValueError(f"{Path(path).name} is not a readable mask image ({exc})") from exc


def _atomic_image_save(path: Path, image: Image.Image) -> None:
    path = Path(path)
    fmt = Image.registered_extensions().get(path.suffix.lower(), "PNG")
    atomic_write(path, lambda tmp: image.save(tmp, format=fmt))


def _pil_save(path: Path, rgb: np.ndarray) -> None:
    _atomic_image_save(path, Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8)))


def _pil_save_mask(path: Path, mask: np.ndarray, colour: bool, classes: ClassTable | None) -> None:
    from ca2sis.classes import CELEBAMASK_HQ

    table = classes or CELEBAMASK_HQ
    data = table.colorize(mask) if colour else np.ascontiguousarray(mask, dtype=np.uint8)
    _atomic_image_save(path, Image.fromarray(data))


# ---- faces without the photo pipeline ------------------------------------------------------------
def sibling_mask(path: Path) -> Path | None:
    """A mask stored next to a face image: ``<stem>_mask.png``, or ``../masks/<stem>.png`` (CelebAMask-HQ
    style folders, as in a data set's ``images/`` + ``masks/``)."""
    path = Path(path)
    for candidate in (path.with_name(f"{path.stem}_mask.png"), path.parent.parent / "masks" / f"{path.stem}.png"):
        if candidate.is_file():
            return candidate
    return None


def center_square(image: np.ndarray, size: int) -> np.ndarray:
    h, w = image.shape[:2]
    s = min(h, w)
    y, x = (h - s) // 2, (w - s) // 2
    crop = Image.fromarray(image[y : y + s, x : x + s])
    return np.asarray(crop.resize((size, size), Image.Resampling.LANCZOS))
