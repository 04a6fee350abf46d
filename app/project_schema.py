"""What a ``.ca2sis`` project file may hold, checked before any of it reaches a :class:`Document`.

A project is untrusted input (a download, a mail attachment, a damaged disk), so it is read in this
order, each step before anything costly:

1. the file: a regular file of at most :data:`MAX_PROJECT_BYTES` (``ca2sis.safe_files``);
2. the zip directory: how many members, what each declares it unpacks to, the compression ratio
   (a zip bomb is refused from its directory, before a byte is inflated);
3. ``project.json``: at most :data:`MAX_JSON_BYTES`, nested at most :data:`MAX_DEPTH` deep (counted
   before parsing), no NaN or Infinity, and every field's type and range, in :func:`parse_meta`;
4. the PNG members: pixel caps from their headers, their modes, and their sizes against each other.

Every refusal is a :class:`ProjectError` that says what is wrong. Unknown top-level fields are
ignored, so a newer file of the same version still opens; a new field is added to :func:`parse_meta`.
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from ca2sis.classes import ClassTable
from ca2sis.requests import ShapeSource, StyleSource
from ca2sis.safe_files import MAX_MASK_PIXELS, FileRefused, check_archive, check_pixels, read_member

FORMAT = "ca2sis-project"
VERSION = 1

MAX_PROJECT_BYTES = 2 << 30
MAX_JSON_BYTES = 4 << 20
MAX_MEMBER_BYTES = 512 << 20  # photo.png: a 50 MP photo as PNG
MAX_TOTAL_BYTES = 2 << 30
MAX_DEPTH = 16  # the schema itself is 5 deep (context → transform → matrix → row)
MAX_REFERENCES = 256
MAX_TEXT = 1000
MAX_WARNINGS = 100
MASK_PIXELS = MAX_MASK_PIXELS
PHOTO_PIXELS = 50_000_000  # ca2sis.photo.MAX_PIXELS: the largest photo the editor keeps
REFERENCE_PIXELS = 4096 * 4096
MIN_FACE_SIDE = 8  # smaller faces cannot be rendered (ca2sis.inputs.check_image)
MAX_SEED = 2**63 - 1
MAX_COORD = 1 << 20
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
STYLE_KINDS = ("own", "reference", "random")


class ProjectError(ValueError):
    """A project file that cannot be read; the message says what is wrong with it."""


@dataclass
class ContextMeta:
    transform: dict[str, Any] | None  # matrix (2×3 floats), size, photo_size (w, h)
    face_index: int | None
    warnings: list[str]
    pad: tuple[int, int]


@dataclass
class ProjectMeta:
    name: str
    seed: int
    styles: dict[int, StyleSource]
    shapes: dict[int, ShapeSource]
    shape_all: ShapeSource | None
    references: list[tuple[str, str]]  # (key, name)
    locked: set[int]
    hidden: set[int]
    attention_class: int | None
    context: ContextMeta | None
    raw: dict[str, Any] = field(default_factory=dict)  # the parsed JSON, for fields added later


# ---- the archive -----------------------------------------------------------------------------------
def check_members(zf: zipfile.ZipFile, name: str = "the project") -> None:
    try:
        check_archive(zf, name, MAX_MEMBER_BYTES, MAX_TOTAL_BYTES, {"project.json": MAX_JSON_BYTES})
    except FileRefused as exc:
        raise ProjectError(str(exc)) from None


def member(zf: zipfile.ZipFile, name: str) -> bytes:
    try:
        return read_member(zf, name, "the project")
    except FileRefused as exc:
        raise ProjectError(str(exc)) from None


# ---- project.json ----------------------------------------------------------------------------------
def nesting_depth(text: str) -> int:
    """How deeply ``[``/``{`` nest in JSON text, counted without parsing (strings are skipped)."""
    bare = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)
    codes = np.frombuffer(bare.encode("utf-8"), np.uint8)
    steps = np.isin(codes, (ord("["), ord("{"))).astype(np.int32) - np.isin(codes, (ord("]"), ord("}")))
    return int(np.cumsum(steps).max(initial=0))


def _no_constant(token: str) -> Any:
    raise ProjectError(f"project.json holds {token}, which is not a number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ProjectError(f"project.json holds the number {text}, which is out of range")
    return value


def _int(value: Any, what: str, lo: int, hi: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProjectError(f"{what} must be a whole number, got {value!r:.60}")
    if not lo <= value <= hi:
        raise ProjectError(f"{what} = {value} is outside {lo}..{hi}")
    return value


def _number(value: Any, what: str, lo: float = -math.inf, hi: float = math.inf) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ProjectError(f"{what} must be a number, got {value!r:.60}")
    if not lo <= value <= hi:
        raise ProjectError(f"{what} = {value} is outside {lo}..{hi}")
    return float(value)


def _text(value: Any, what: str, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise ProjectError(f"{what} must be a text of at most {limit} characters, got {value!r:.60}")
    return value


def _object(value: Any, what: str, keys: set[str], required: set[str] = frozenset()) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ProjectError(f"{what} must be an object, got {type(value).__name__}")
    unknown, missing = set(value) - keys, required - set(value)
    if unknown or missing:
        detail = f"unknown {', '.join(sorted(unknown))}" if unknown else f"missing {', '.join(sorted(missing))}"
        raise ProjectError(f"{what} has the wrong fields ({detail})")
    return value


def _list(value: Any, what: str, limit: int) -> list[Any]:
    if not isinstance(value, list) or len(value) > limit:
        raise ProjectError(f"{what} must be a list of at most {limit} entries, got {type(value).__name__}")
    return value


def _class_id(value: Any, what: str, n: int) -> int:
    if isinstance(value, str):  # dictionary keys are texts in JSON
        if not value.isdigit() or len(value) > 4:
            raise ProjectError(f"{what}: {value!r:.20} is not a class id")
        value = int(value)
    return _int(value, what, 0, n - 1)


def _style(raw: Any, what: str) -> StyleSource:
    raw = _object(raw, what, {"kind", "reference", "seed", "alpha"}, {"kind"})
    kind = raw["kind"]
    if kind not in STYLE_KINDS:
        raise ProjectError(f"{what}: unknown kind {kind!r:.30}; one of {', '.join(STYLE_KINDS)}")
    reference = raw.get("reference")
    if reference is not None:
        reference = _text(reference, f"{what}'s reference", 64)
    if kind == "reference" and not reference:
        raise ProjectError(f"{what} takes a reference's style but names no reference")
    return StyleSource(kind, reference, _int(raw.get("seed", 0), f"{what}'s seed", 0, MAX_SEED),
                       _number(raw.get("alpha", 1.0), f"{what}'s alpha", 0.0, 1.0))


def _shape(raw: Any, what: str) -> ShapeSource:
    raw = _object(raw, what, {"reference", "alpha"}, {"reference"})
    return ShapeSource(_text(raw["reference"], f"{what}'s reference", 64),
                       _number(raw.get("alpha", 1.0), f"{what}'s alpha", 0.0, 1.0))


def _transform(raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    raw = _object(raw, "the alignment", {"matrix", "size", "photo_size"}, {"matrix", "size", "photo_size"})
    rows = _list(raw["matrix"], "the alignment matrix", 2)
    if len(rows) != 2 or any(not isinstance(r, list) or len(r) != 3 for r in rows):
        raise ProjectError("the alignment matrix must be 2×3 numbers")
    matrix = [[_number(v, "an alignment matrix entry", -MAX_COORD, MAX_COORD) for v in row] for row in rows]
    if abs(matrix[0][0] * matrix[1][1] - matrix[0][1] * matrix[1][0]) < 1e-12:
        raise ProjectError("the alignment matrix cannot be inverted")
    photo_size = _list(raw["photo_size"], "the alignment's photo size", 2)
    if len(photo_size) != 2:
        raise ProjectError("the alignment's photo size must be [width, height]")
    return {
        "matrix": matrix,
        "size": _int(raw["size"], "the alignment's size", 1, 16384),
        "photo_size": tuple(_int(v, "the alignment's photo size", 1, MAX_COORD) for v in photo_size),
    }


def _context(raw: Any) -> ContextMeta | None:
    if raw is None:
        return None
    raw = _object(raw, "the photo context", {"transform", "face_index", "warnings", "pad"})
    face_index = raw.get("face_index")
    if face_index is not None:
        face_index = _int(face_index, "the face index", -1, 10_000)
    warnings = [_text(w, "a warning") for w in _list(raw.get("warnings", []), "the warnings", MAX_WARNINGS)]
    pad = _list(raw.get("pad", [0, 0]), "the padding", 2)
    if len(pad) != 2:
        raise ProjectError("the padding must be [left, top]")
    return ContextMeta(_transform(raw.get("transform")), face_index, warnings,
                       (_int(pad[0], "the padding", 0, MAX_COORD), _int(pad[1], "the padding", 0, MAX_COORD)))


def parse_meta(data: bytes, classes: ClassTable) -> ProjectMeta:
    """``project.json``'s bytes → checked settings, or a :class:`ProjectError` naming the first problem."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProjectError(f"project.json is not UTF-8 text ({exc})") from None
    depth = nesting_depth(text)
    if depth > MAX_DEPTH:
        raise ProjectError(f"project.json is nested {depth} levels deep; a project is at most {MAX_DEPTH}")
    try:
        raw = json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except (ValueError, RecursionError) as exc:
        if isinstance(exc, ProjectError):
            raise
        raise ProjectError(f"project.json is damaged ({exc})") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise ProjectError("not a CA2SIS project (unknown format marker)")
    version = raw.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ProjectError(f"project format version {version!r:.30} is not a version number")
    if version > VERSION:
        raise ProjectError(f"project format version {version} is newer than this program ({VERSION})")
    n = len(classes)
    if raw.get("num_classes") != n or isinstance(raw.get("num_classes"), bool):
        raise ProjectError(f"the project uses {raw.get('num_classes')!r:.20} classes, the editor {n}")

    refs = []
    for i, entry in enumerate(_list(raw.get("references", []), "the references", MAX_REFERENCES)):
        entry = _object(entry, f"reference {i}", {"key", "name"}, {"key", "name"})
        key = _text(entry["key"], f"reference {i}'s key", 64)
        if not KEY_PATTERN.fullmatch(key):
            raise ProjectError(f"reference {i}'s key {key!r} is not a key (letters, digits, - and _)")
        refs.append((key, _text(entry["name"], f"reference {i}'s name")))
    keys = {k for k, _ in refs}
    if len(keys) != len(refs):
        raise ProjectError("two reference faces have the same key")

    def styles_of(field_name: str, make) -> dict[int, Any]:
        table = raw.get(field_name, {})
        if not isinstance(table, dict) or len(table) > n:
            raise ProjectError(f"{field_name} must be an object with at most one entry per class")
        return {_class_id(c, f"{field_name} key", n): make(v, f"the {field_name[:-1]} of class {c}")
                for c, v in table.items()}

    meta = ProjectMeta(
        name=_text(raw.get("name", "Untitled"), "the name"),
        seed=_int(raw.get("seed", 0), "the seed", 0, MAX_SEED),
        styles=styles_of("styles", _style),
        shapes=styles_of("shapes", _shape),
        shape_all=None if raw.get("shape_all") is None else _shape(raw["shape_all"], "the whole-face shape"),
        references=refs,
        locked={_class_id(c, "a locked class", n) for c in _list(raw.get("locked", []), "locked", n)},
        hidden={_class_id(c, "a hidden class", n) for c in _list(raw.get("hidden", []), "hidden", n)},
        attention_class=None if raw.get("attention_class") is None
        else _class_id(raw["attention_class"], "the attention class", n),
        context=_context(raw.get("context")),
        raw=raw,
    )
    for cls, style in meta.styles.items():
        if style.kind == "reference" and style.reference not in keys:
            raise ProjectError(f"the style of {classes[cls].label} refers to a missing reference face")
    for shape in [*meta.shapes.values(), meta.shape_all]:
        if shape is not None and shape.reference not in keys:
            raise ProjectError("a shape setting refers to a missing reference face")
    return meta


# ---- PNG members -----------------------------------------------------------------------------------
def read_png(zf: zipfile.ZipFile, name: str, kind: str, max_pixels: int, required: bool = True) -> np.ndarray | None:
    """A member as an index mask (``kind`` "mask": 8-bit L or P) or an RGB image ("rgb")."""
    if name not in zf.namelist():
        if required:
            raise ProjectError(f"the project has no {name}")
        return None
    data = member(zf, name)
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as im:
            check_pixels(im.size, max_pixels, f"{name} inside the project", kind if kind == "mask" else "image")
            if kind == "mask":
                if im.mode not in ("L", "P"):
                    raise ProjectError(f"{name} is not an 8-bit index image (mode {im.mode})")
                return np.array(im, dtype=np.uint8)
            return np.array(im.convert("RGB") if im.mode != "RGB" else im, dtype=np.uint8)
    except (ProjectError, FileRefused) as exc:
        raise ProjectError(str(exc)) from None
    except Exception as exc:  # Pillow raises many types for a damaged PNG
        raise ProjectError(f"{name} inside the project is not a readable PNG ({exc})") from None


def check_mask(mask: np.ndarray, name: str, classes: ClassTable, shape: tuple[int, ...] | None) -> np.ndarray:
    if mask.ndim != 2:
        raise ProjectError(f"{name} must be a single-channel mask, got shape {mask.shape}")
    if shape is not None and mask.shape != shape:
        raise ProjectError(f"{name} is {mask.shape[1]}×{mask.shape[0]}, but it must be {shape[1]}×{shape[0]}")
    if mask.size and int(mask.max()) >= len(classes):
        raise ProjectError(f"{name} holds class id {int(mask.max())}; {classes.name} has {len(classes)} classes")
    return mask


def check_face(image: np.ndarray, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """A face the model will render from: its mask's size, and large enough to encode."""
    if image.shape[:2] != shape:
        raise ProjectError(f"{name} is {image.shape[1]}×{image.shape[0]}, but its mask is {shape[1]}×{shape[0]}")
    if min(shape) < MIN_FACE_SIDE:
        raise ProjectError(f"{name} is {shape[1]}×{shape[0]}; a face needs at least {MIN_FACE_SIDE} pixels a side")
    return image
