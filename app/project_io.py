"""The ``.ca2sis`` project file: one zip holding the face, its mask and every setting.

Layout inside the zip::

    project.json          format, version, class table, styles, shapes, references, locks, alignment
    mask.png              the edited index mask (8-bit greyscale, pixel = class id)
    original_mask.png     the mask as opened (the eraser's "class underneath")
    face.png              the aligned face (absent for a mask-only project)
    photo.png             the full original photo (absent when there is none)
    refs/<key>.png        each reference face, with refs/<key>_mask.png
    fit.safetensors       the face's fit to its photo (absent when unfitted), checked on load: size,
                          format, tensors, and its key against project.json

PNG everywhere, so a save → load round trip is bit-identical. Writes go to a temporary file in the
target folder and replace the target in one step, so a crash never leaves half a project. Loading
builds a fresh :class:`Document` and validates everything first: a bad file raises
:class:`ProjectError` and the open document is untouched.
"""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from app.document import Document, PhotoContext, ReferenceFace
from app.fit_record import FitRecord
from ca2sis.atomic import atomic_write_bytes
from ca2sis.classes import CELEBAMASK_HQ, ClassTable
from ca2sis.fit import FitFileError
from ca2sis.fit.state import MAX_BYTES as FIT_MAX_BYTES
from ca2sis.requests import ShapeSource, StyleSource

FORMAT = "ca2sis-project"
VERSION = 1
SUFFIX = ".ca2sis"


class ProjectError(ValueError):
    """A project file that cannot be read; the message says what is wrong with it."""


# ---- writing ---------------------------------------------------------------------------------------
def _png(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array)).save(buf, format="PNG", compress_level=3)
    return buf.getvalue()


def _transform_to_json(transform: Any) -> dict | None:
    if transform is None:
        return None
    if dataclasses.is_dataclass(transform):
        raw = {f.name: getattr(transform, f.name) for f in dataclasses.fields(transform)}
    else:
        raw = {k: getattr(transform, k) for k in ("matrix", "size", "photo_size") if hasattr(transform, k)}
    return {k: np.asarray(v).tolist() if isinstance(v, np.ndarray | tuple | list) else v for k, v in raw.items()}


def to_bytes(doc: Document) -> bytes:
    meta: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "classes": doc.classes.name,
        "num_classes": len(doc.classes),
        "name": doc.name,
        "seed": doc.seed,
        "styles": {str(c): dataclasses.asdict(s) for c, s in sorted(doc.styles.items())},
        "shapes": {str(c): dataclasses.asdict(s) for c, s in sorted(doc.shapes.items())},
        "shape_all": None if doc.shape_all is None else dataclasses.asdict(doc.shape_all),
        "references": [{"key": r.key, "name": r.name} for r in doc.references.values()],
        "locked": sorted(doc.locked),
        "hidden": sorted(doc.hidden),
        "attention_class": doc.attention_class,
        "context": None,
        "fit": None if doc.fit is None else {"key": doc.fit.key, "model_name": doc.fit.model_name},
    }
    if doc.context is not None:
        meta["context"] = {
            "transform": _transform_to_json(doc.context.transform),
            "face_index": doc.context.face_index,
            "warnings": list(doc.context.warnings),
            "pad": list(doc.context.pad),
        }
    buf = io.BytesIO()
    # PNGs are already compressed: store them, compress only the JSON.
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("project.json", json.dumps(meta, indent=1), compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("mask.png", _png(doc.mask))
        zf.writestr("original_mask.png", _png(doc.original_mask))
        if doc.face is not None:
            zf.writestr("face.png", _png(doc.face))
        if doc.context is not None:
            zf.writestr("photo.png", _png(doc.context.photo))
        for ref in doc.references.values():
            zf.writestr(f"refs/{ref.key}.png", _png(ref.image))
            zf.writestr(f"refs/{ref.key}_mask.png", _png(ref.mask))
        if doc.fit is not None:
            zf.writestr("fit.safetensors", doc.fit.data)
    return buf.getvalue()


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and ``os.replace``."""
    atomic_write_bytes(path, data)


def save_project(doc: Document, path: Path, mark_clean: bool = True) -> Path:
    path = Path(path)
    if path.suffix != SUFFIX:
        path = path.with_name(path.name + SUFFIX)
    write_atomic(path, to_bytes(doc))
    if mark_clean:
        doc.mark_clean(path)
    return path


# ---- reading ---------------------------------------------------------------------------------------
def _read_png(zf: zipfile.ZipFile, name: str, mode: str, required: bool = True) -> np.ndarray | None:
    if name not in zf.namelist():
        if required:
            raise ProjectError(f"the project has no {name}")
        return None
    try:
        with Image.open(io.BytesIO(zf.read(name))) as im:
            if mode == "L" and im.mode not in ("L", "P"):
                raise ProjectError(f"{name} is not an 8-bit index image (mode {im.mode})")
            return np.array(im.convert(mode) if im.mode != mode and mode == "RGB" else im, dtype=np.uint8)
    except ProjectError:
        raise
    except Exception as exc:
        raise ProjectError(f"{name} inside the project is not a readable PNG ({exc})") from exc


def _check_mask(mask: np.ndarray, name: str, classes: ClassTable, shape: tuple[int, ...] | None) -> np.ndarray:
    if mask.ndim != 2:
        raise ProjectError(f"{name} must be a single-channel mask, got shape {mask.shape}")
    if shape is not None and mask.shape != shape:
        raise ProjectError(f"{name} is {mask.shape}, but the mask is {shape}")
    if mask.size and int(mask.max()) >= len(classes):
        raise ProjectError(f"{name} holds class id {int(mask.max())}; {classes.name} has {len(classes)} classes")
    return mask


def _restore_transform(raw: dict | None) -> Any:
    if raw is None:
        return None
    matrix = np.asarray(raw.get("matrix"), dtype=np.float64)
    try:
        from ca2sis.align import AlignTransform

        kwargs = {k: (matrix if k == "matrix" else tuple(v) if isinstance(v, list) else v) for k, v in raw.items()}
        return AlignTransform(**kwargs)
    except ImportError:  # the photo pipeline is missing: keep the numbers, paste-back will say why it can't
        from types import SimpleNamespace

        return SimpleNamespace(**{k: (matrix if k == "matrix" else v) for k, v in raw.items()})


def from_bytes(data: bytes, classes: ClassTable = CELEBAMASK_HQ) -> Document:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ProjectError("not a CA2SIS project (the file is not a zip archive)") from exc
    with zf:
        try:
            meta = json.loads(zf.read("project.json"))
        except KeyError as exc:
            raise ProjectError("not a CA2SIS project (project.json is missing)") from exc
        except (ValueError, zipfile.BadZipFile) as exc:
            raise ProjectError(f"project.json is damaged ({exc})") from exc
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ProjectError("not a CA2SIS project (unknown format marker)")
        if not isinstance(meta.get("version"), int) or meta["version"] > VERSION:
            raise ProjectError(f"project format version {meta.get('version')!r} is newer than this program ({VERSION})")
        if meta.get("num_classes") != len(classes):
            raise ProjectError(f"the project uses {meta.get('num_classes')} classes, the editor {len(classes)}")
        try:
            mask = _check_mask(_read_png(zf, "mask.png", "L"), "mask.png", classes, None)
            original = _check_mask(_read_png(zf, "original_mask.png", "L"), "original_mask.png", classes, mask.shape)
            face = _read_png(zf, "face.png", "RGB", required=False)
            if face is not None and face.shape[:2] != mask.shape:
                raise ProjectError(f"face.png is {face.shape[:2]}, but the mask is {mask.shape}")
            doc = Document(classes, mask=mask, face=face)
            doc.original_mask = original
            for entry in meta.get("references", []):
                key, name = str(entry["key"]), str(entry["name"])
                image = _read_png(zf, f"refs/{key}.png", "RGB")
                ref_mask = _check_mask(_read_png(zf, f"refs/{key}_mask.png", "L"), f"reference {name}", classes, None)
                doc.references[key] = ReferenceFace(key, name, image, ref_mask)
            doc.styles = {int(c): StyleSource(**s) for c, s in meta.get("styles", {}).items()}
            doc.shapes = {int(c): ShapeSource(**s) for c, s in meta.get("shapes", {}).items()}
            doc.shape_all = None if meta.get("shape_all") is None else ShapeSource(**meta["shape_all"])
            _check_settings(doc)
            doc.locked = {int(c) for c in meta.get("locked", [])}
            doc.hidden = {int(c) for c in meta.get("hidden", [])}
            doc.attention_class = meta.get("attention_class")
            doc.seed = int(meta.get("seed", 0))
            doc.name = str(meta.get("name", "Untitled"))
            doc.fit = _read_fit(zf, meta.get("fit"), face is not None)
            if meta.get("context") is not None:
                photo = _read_png(zf, "photo.png", "RGB")
                ctx = meta["context"]
                transform = _restore_transform(ctx.get("transform"))
                doc.context = PhotoContext(photo, transform, ctx.get("face_index"), list(ctx.get("warnings", [])),
                                           tuple(ctx.get("pad", (0, 0))))
        except ProjectError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise ProjectError(f"the project's settings are damaged ({type(exc).__name__}: {exc})") from exc
    return doc


def _read_fit(zf: zipfile.ZipFile, entry: Any, has_face: bool) -> FitRecord | None:
    name = "fit.safetensors"
    if entry is None:
        return None
    if not isinstance(entry, dict) or not isinstance(entry.get("key"), str):
        raise ProjectError("the project's fit entry is damaged")
    if not has_face:
        raise ProjectError("the project has a fit but no face photo to apply it to")
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise ProjectError(f"the project names a fit but has no {name}") from None
    if info.file_size > FIT_MAX_BYTES:  # checked before reading: a zip entry can claim anything
        raise ProjectError(f"{name} is {info.file_size / 2**20:.1f} MB, more than the "
                           f"{FIT_MAX_BYTES / 2**20:.0f} MB a fit may have")
    try:
        record = FitRecord.from_bytes(zf.read(name))
    except FitFileError as exc:
        raise ProjectError(f"the project's fit is damaged: {exc}") from exc
    except zipfile.BadZipFile as exc:
        raise ProjectError(f"{name} is damaged ({exc})") from exc
    if record.key != entry["key"]:
        raise ProjectError(f"{name} does not match the fit recorded in project.json (damaged or replaced)")
    return record


def _check_settings(doc: Document) -> None:
    n = len(doc.classes)
    for cls, style in doc.styles.items():
        if not 0 <= cls < n:
            raise ProjectError(f"style for class {cls}, which does not exist")
        if style.kind == "reference" and style.reference not in doc.references:
            raise ProjectError(f"the style of {doc.classes[cls].label} refers to a missing reference face")
    for cls, shape in [*doc.shapes.items(), (None, doc.shape_all)]:
        if shape is None:
            continue
        if cls is not None and not 0 <= cls < n:
            raise ProjectError(f"shape for class {cls}, which does not exist")
        if shape.reference not in doc.references:
            raise ProjectError("a shape setting refers to a missing reference face")


def load_project(path: Path, classes: ClassTable = CELEBAMASK_HQ) -> Document:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ProjectError(f"cannot read {path}: {exc.strerror or exc}") from exc
    doc = from_bytes(data, classes)
    doc.path = path
    doc.name = path.stem
    return doc
