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
builds a fresh :class:`Document` and validates everything first against the schema in
:mod:`app.project_schema` (sizes, types, ranges, zip bombs): a bad file raises :class:`ProjectError`
and the open document is untouched.
"""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from PIL import Image

from app import project_schema as schema
from app.document import Document, PhotoContext, ReferenceFace
from app.fit_record import FitRecord
from app.project_schema import FORMAT, VERSION, ProjectError
from ca2sis.atomic import atomic_write_bytes
from ca2sis.classes import CELEBAMASK_HQ, ClassTable
from ca2sis.fit import FitFileError
from ca2sis.fit.state import MAX_BYTES as FIT_MAX_BYTES
from ca2sis.safe_files import FileRefused, open_regular

SUFFIX = ".ca2sis"
__all__ = ["FORMAT", "SUFFIX", "VERSION", "ProjectError", "from_bytes", "load_project", "save_project", "to_bytes"]


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
def _restore_transform(raw: dict | None) -> Any:
    if raw is None:
        return None
    matrix = np.asarray(raw["matrix"], dtype=np.float64)
    try:
        from ca2sis.photo.align import AlignTransform

        return AlignTransform(matrix, raw["size"], tuple(raw["photo_size"]))
    except ImportError:  # the photo pipeline is missing: keep the numbers, paste-back will say why it can't
        from types import SimpleNamespace

        return SimpleNamespace(**{**raw, "matrix": matrix})


def _read(source: BinaryIO, classes: ClassTable) -> Document:
    """Everything is checked (app.project_schema) before the Document is built."""
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise ProjectError("not a CA2SIS project (the file is not a zip archive)") from exc
    with zf:
        schema.check_members(zf)
        if "project.json" not in zf.namelist():
            raise ProjectError("not a CA2SIS project (project.json is missing)")
        meta = schema.parse_meta(schema.member(zf, "project.json"), classes)
        mask = schema.check_mask(schema.read_png(zf, "mask.png", "mask", schema.MASK_PIXELS), "mask.png", classes, None)
        original = schema.check_mask(schema.read_png(zf, "original_mask.png", "mask", schema.MASK_PIXELS),
                                     "original_mask.png", classes, mask.shape)
        face = schema.read_png(zf, "face.png", "rgb", schema.MASK_PIXELS, required=False)
        if face is not None:
            schema.check_face(face, "face.png", mask.shape)
        references = []
        for key, name in meta.references:
            image = schema.read_png(zf, f"refs/{key}.png", "rgb", schema.REFERENCE_PIXELS)
            ref_mask = schema.read_png(zf, f"refs/{key}_mask.png", "mask", schema.REFERENCE_PIXELS)
            schema.check_mask(ref_mask, f"the mask of reference {name}", classes, None)
            schema.check_face(image, f"reference {name}", ref_mask.shape)
            references.append(ReferenceFace(key, name, image, ref_mask))
        context = None
        if meta.context is not None:
            photo = schema.read_png(zf, "photo.png", "rgb", schema.PHOTO_PIXELS)
            ctx = meta.context
            context = PhotoContext(photo, _restore_transform(ctx.transform), ctx.face_index, ctx.warnings, ctx.pad)
        fit = _read_fit(zf, meta.raw.get("fit"), face is not None)
    doc = Document(classes, mask=mask, face=face)
    doc.original_mask = original
    doc.references = {ref.key: ref for ref in references}
    doc.styles, doc.shapes, doc.shape_all = meta.styles, meta.shapes, meta.shape_all
    doc.locked, doc.hidden = meta.locked, meta.hidden
    doc.attention_class, doc.seed, doc.name = meta.attention_class, meta.seed, meta.name
    doc.context = context
    doc.fit = fit
    return doc


def from_bytes(data: bytes, classes: ClassTable = CELEBAMASK_HQ) -> Document:
    return _read(io.BytesIO(data), classes)


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
        record = FitRecord.from_bytes(schema.member(zf, name))
    except FitFileError as exc:
        raise ProjectError(f"the project's fit is damaged: {exc}") from exc
    if record.key != entry["key"]:
        raise ProjectError(f"{name} does not match the fit recorded in project.json (damaged or replaced)")
    return record


def load_project(path: Path, classes: ClassTable = CELEBAMASK_HQ) -> Document:
    """A project file as a new Document; a :class:`ProjectError` (and nothing touched) when it is refused."""
    path = Path(path)
    try:
        with open_regular(path, "project", schema.MAX_PROJECT_BYTES) as f:
            doc = _read(f, classes)
    except FileRefused as exc:
        raise ProjectError(str(exc)) from None
    except ProjectError as exc:
        raise ProjectError(f"{path.name}: {exc}") from None
    except OSError as exc:
        raise ProjectError(f"cannot read {path}: {exc.strerror or exc}") from exc
    doc.path = path
    doc.name = path.stem
    return doc
