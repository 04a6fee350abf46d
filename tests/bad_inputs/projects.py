"""Bad ``.ca2sis`` projects: not zips, damaged zips, zip bombs, settings of the wrong type or out of
range, NaN and Infinity, deep nesting, and members (masks, faces, references) of the wrong size or
mode. Each is a good project with one thing changed, so that one check refuses it."""

from __future__ import annotations

import functools
import io
import json
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from tests.bad_inputs.case import Case, garbage, not_files, png, write
from tests.bad_inputs.images import ZEROS


@functools.cache
def good_members() -> dict[str, bytes]:
    """The members of a small, valid project: a 32² face with a reference, settings and a photo."""
    from app.document import Document, PhotoContext, ReferenceFace
    from app.project_io import to_bytes
    from ca2sis.photo.align import AlignTransform
    from ca2sis.requests import ShapeSource, StyleSource

    rng = np.random.default_rng(0)
    mask = rng.integers(0, 19, (32, 32), dtype=np.uint8)
    face = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    doc = Document()
    transform = AlignTransform(np.array([[0.5, 0.0, 3.0], [0.0, 0.5, 4.0]]), 32, (40, 48))
    doc.load_face(mask, face, "face", PhotoContext(rng.integers(0, 256, (48, 40, 3), dtype=np.uint8), transform, 0))
    ref = doc.add_reference(ReferenceFace.make("ref", face[::-1].copy(), mask[::-1].copy()))
    doc.set_style(13, StyleSource("reference", ref.key, alpha=0.5))
    doc.set_style(4, StyleSource("random", seed=3))
    doc.set_shape(2, ShapeSource(ref.key, 0.25))
    doc.set_locked(13, True)
    with zipfile.ZipFile(io.BytesIO(to_bytes(doc))) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def good_meta() -> dict[str, Any]:
    return json.loads(good_members()["project.json"])


def ref_key() -> str:
    return good_meta()["references"][0]["key"]


def zip_bytes(members: dict[str, bytes], compress: tuple[str, ...] = ("project.json",)) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED if name in compress else zipfile.ZIP_STORED)
    return buf.getvalue()


def lying_zip(members: dict[str, bytes], declared: dict[str, int]) -> bytes:
    """A zip whose directory declares other uncompressed sizes than its members have."""
    data = bytearray(zip_bytes(members, tuple(members)))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        infos = {i.filename: i for i in zf.infolist()}
    end = data.rindex(b"PK\x05\x06")
    central = struct.unpack("<I", data[end + 16 : end + 20])[0]
    at = central
    while data[at : at + 4] == b"PK\x01\x02":
        name_len, extra_len, comment_len = struct.unpack("<HHH", data[at + 28 : at + 34])
        name = data[at + 46 : at + 46 + name_len].decode()
        if name in declared:
            data[at + 24 : at + 28] = struct.pack("<I", declared[name])
            local = infos[name].header_offset
            data[local + 22 : local + 26] = struct.pack("<I", declared[name])
        at += 46 + name_len + extra_len + comment_len
    return bytes(data)


def project(meta: Callable[[dict], Any] | None = None, members: Callable[[dict], None] | None = None,
            raw_json: str | None = None) -> Callable[[Path], Path]:
    """A good project with its settings changed by ``meta`` (or replaced by ``raw_json``) and its
    members by ``members``."""

    def make(folder: Path) -> Path:
        content = dict(good_members())
        if raw_json is not None:
            content["project.json"] = raw_json.encode()
        elif meta is not None:
            settings = good_meta()
            changed = meta(settings)
            content["project.json"] = json.dumps(settings if changed is None else changed).encode()
        if members is not None:
            members(content)
        return write(folder, "bad.ca2sis", zip_bytes(content))

    return make


def setting(key: str, value: Any) -> Callable[[dict], None]:
    return lambda m: m.__setitem__(key, value)


def _settings_cases() -> list[Case]:
    key = ref_key()
    variants: dict[str, Callable[[dict], Any]] = {
        "styles-as-list": setting("styles", [{"kind": "own"}]),
        "shapes-as-list": setting("shapes", [1, 2]),
        "styles-as-text": setting("styles", "all"),
        "style-not-object": setting("styles", {"13": 5}),
        "style-kind-unknown": setting("styles", {"13": {"kind": "magic"}}),
        "style-kind-missing": setting("styles", {"13": {"alpha": 0.5}}),
        "style-alpha-text": setting("styles", {"13": {"kind": "random", "alpha": "0.5"}}),
        "style-alpha-2": setting("styles", {"13": {"kind": "random", "alpha": 2}}),
        "style-alpha-negative": setting("styles", {"13": {"kind": "random", "alpha": -0.1}}),
        "style-seed-negative": setting("styles", {"13": {"kind": "random", "seed": -5}}),
        "style-seed-2^70": setting("styles", {"13": {"kind": "random", "seed": 2**70}}),
        "style-extra-field": setting("styles", {"13": {"kind": "own", "evil": 1}}),
        "style-class-99": setting("styles", {"99": {"kind": "own"}}),
        "style-class-minus-1": setting("styles", {"-1": {"kind": "own"}}),
        "style-class-text": setting("styles", {"hair": {"kind": "own"}}),
        "style-class-huge": setting("styles", {"9" * 400: {"kind": "own"}}),
        "style-missing-reference": setting("styles", {"13": {"kind": "reference", "reference": "nope"}}),
        "style-reference-without-key": setting("styles", {"13": {"kind": "reference"}}),
        "shape-missing-reference": setting("shapes", {"2": {"reference": "nope", "alpha": 0.5}}),
        "shape-alpha-bool": setting("shapes", {"2": {"reference": key, "alpha": True}}),
        "shape-all-list": setting("shape_all", [key, 0.5]),
        "shape-all-missing-reference": setting("shape_all", {"reference": "gone"}),
        "seed-negative": setting("seed", -1),
        "seed-2^64": setting("seed", 2**64),
        "seed-float": setting("seed", 1.5),
        "seed-text": setting("seed", "3"),
        "seed-bool": setting("seed", True),
        "name-number": setting("name", 123),
        "name-100k": setting("name", "n" * 100_000),
        "references-object": setting("references", {"key": key}),
        "reference-no-key": setting("references", [{"name": "x"}]),
        "reference-key-path": setting("references", [{"key": "../../../etc/passwd", "name": "x"}]),
        "reference-key-number": setting("references", [{"key": 5, "name": "x"}]),
        "reference-twice": setting("references", [{"key": key, "name": "a"}, {"key": key, "name": "b"}]),
        "300-references": setting("references", [{"key": f"k{i}", "name": "x"} for i in range(300)]),
        "locked-text": setting("locked", ["hair"]),
        "locked-99": setting("locked", [99]),
        "locked-object": setting("locked", {"13": True}),
        "hidden-1000": setting("hidden", list(range(19)) * 60),
        "attention-999": setting("attention_class", 999),
        "attention-hair": setting("attention_class", "hair"),
        "attention-negative": setting("attention_class", -1),
        "attention-float": setting("attention_class", 1.5),
        "attention-bool": setting("attention_class", True),
        "context-list": setting("context", [1, 2]),
        "context-unknown-field": lambda m: m["context"].__setitem__("evil", 1),
        "transform-3x3": lambda m: m["context"]["transform"].__setitem__("matrix", [[1, 0, 0]] * 3),
        "transform-text": lambda m: m["context"]["transform"].__setitem__("matrix", [["a", 0, 0], [0, 1, 0]]),
        "transform-singular": lambda m: m["context"]["transform"].__setitem__("matrix", [[0, 0, 1], [0, 0, 1]]),
        "transform-huge": lambda m: m["context"]["transform"].__setitem__("matrix", [[1e300, 0, 0], [0, 1, 0]]),
        "transform-extra-key": lambda m: m["context"]["transform"].__setitem__("shear", 1),
        "transform-size-0": lambda m: m["context"]["transform"].__setitem__("size", 0),
        "transform-photo-size-text": lambda m: m["context"]["transform"].__setitem__("photo_size", "40x48"),
        "face-index-text": lambda m: m["context"].__setitem__("face_index", "first"),
        "warnings-100k": lambda m: m["context"].__setitem__("warnings", ["w"] * 100_000),
        "warnings-numbers": lambda m: m["context"].__setitem__("warnings", [1, 2]),
        "pad-negative": lambda m: m["context"].__setitem__("pad", [-5, 0]),
        "pad-three": lambda m: m["context"].__setitem__("pad", [0, 0, 0]),
        "format-wrong": setting("format", "photoshop"),
        "version-999": setting("version", 999),
        "version-text": setting("version", "1"),
        "version-zero": setting("version", 0),
        "version-bool": setting("version", True),
        "classes-151": setting("num_classes", 151),
        "classes-text": setting("num_classes", "19"),
        "json-list": lambda m: [m],
        "json-text": lambda m: "a text, not settings",
    }
    cases = [Case("projects", f"setting-{name}", project(fn)) for name, fn in variants.items()]
    literals = {
        "seed-infinity": ('"seed": 0', '"seed": Infinity'),
        "seed-nan": ('"seed": 0', '"seed": NaN'),
        "alpha-minus-infinity": ('"alpha": 0.5', '"alpha": -Infinity'),
        "alpha-1e400": ('"alpha": 0.5', '"alpha": 1e400'),
        "seed-5000-digits": ('"seed": 0', '"seed": ' + "7" * 5000),
    }
    text = json.dumps(good_meta())
    for name, (old, new) in literals.items():
        assert old in text, old
        cases.append(Case("projects", f"literal-{name}", project(raw_json=text.replace(old, new))))
    cases += [
        Case("projects", "json-not-utf8", project(raw_json=None, members=lambda c: c.__setitem__(
            "project.json", b"\xff\xfe" + text.encode("utf-16-le")))),
        Case("projects", "json-damaged", project(raw_json=text[: len(text) // 2])),
        Case("projects", "json-empty", project(raw_json="")),
        Case("projects", "nested-100", project(lambda m: m.__setitem__("extra", _nested(100)))),
        Case("projects", "nested-100000", project(raw_json="[" * 100_000 + "]" * 100_000)),
        Case("projects", "nested-in-string-is-fine", project(lambda m: m.__setitem__("note", "[" * 10_000)),
             valid=True),
    ]
    return cases


def _nested(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


def _png(array: np.ndarray, mode: str | None = None) -> bytes:
    buf = io.BytesIO()
    (Image.fromarray(array, mode) if mode else Image.fromarray(array)).save(buf, format="PNG")
    return buf.getvalue()


def _member_cases() -> list[Case]:
    key = ref_key()
    mask = np.zeros((32, 32), np.uint8)

    def put(name: str, data: bytes | None) -> Callable[[dict], None]:
        return lambda c: c.pop(name, None) if data is None else c.__setitem__(name, data)

    def both(*edits: Callable[[dict], None]) -> Callable[[dict], None]:
        return lambda c: [e(c) for e in edits]

    variants = {
        "no-mask": put("mask.png", None),
        "no-original-mask": put("original_mask.png", None),
        "no-photo": put("photo.png", None),
        "no-reference-image": put(f"refs/{key}.png", None),
        "no-reference-mask": put(f"refs/{key}_mask.png", None),
        "mask-not-png": put("mask.png", b"not a png"),
        "mask-jpeg": put("mask.png", _jpeg(mask)),
        "mask-rgb": put("mask.png", _png(np.zeros((32, 32, 3), np.uint8))),
        "mask-16-bit": put("mask.png", _png(mask.astype(np.uint16))),
        "mask-id-19": put("mask.png", _png(np.full((32, 32), 19, np.uint8))),
        "mask-id-255": put("mask.png", _png(np.full((32, 32), 255, np.uint8))),
        "mask-claims-100000": put("mask.png", png(100_000, 100_000, 0, idat=ZEROS)),
        "mask-claims-8000": put("mask.png", png(8000, 8000, 0, idat=ZEROS)),
        "mask-truncated": put("mask.png", _png(mask)[:40]),
        "original-other-size": put("original_mask.png", _png(np.zeros((16, 32), np.uint8))),
        "face-other-size": put("face.png", _png(np.zeros((31, 32, 3), np.uint8))),
        "face-4x4": both(put("mask.png", _png(np.zeros((4, 4), np.uint8))),
                         put("original_mask.png", _png(np.zeros((4, 4), np.uint8))),
                         put("face.png", _png(np.zeros((4, 4, 3), np.uint8)))),
        "face-claims-65535": put("face.png", png(65_535, 65_535, 2, idat=ZEROS)),
        "photo-claims-20000": put("photo.png", png(20_000, 20_000, 2, idat=ZEROS)),
        "photo-garbage": put("photo.png", b"\x89PNG\r\n\x1a\n garbage"),
        "reference-other-size": put(f"refs/{key}.png", _png(np.zeros((16, 16, 3), np.uint8))),
        "reference-mask-other-size": put(f"refs/{key}_mask.png", _png(np.zeros((32, 16), np.uint8))),
        "reference-4x4": both(put(f"refs/{key}.png", _png(np.zeros((4, 4, 3), np.uint8))),
                              put(f"refs/{key}_mask.png", _png(np.zeros((4, 4), np.uint8)))),
        "reference-mask-id-40": put(f"refs/{key}_mask.png", _png(np.full((32, 32), 40, np.uint8))),
        "reference-claims-50000": put(f"refs/{key}.png", png(50_000, 50_000, 2, idat=ZEROS)),
        "no-project-json": put("project.json", None),
    }
    return [Case("projects", f"member-{name}", project(members=fn)) for name, fn in variants.items()]


def _jpeg(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="JPEG")
    return buf.getvalue()


def _zip_cases() -> list[Case]:
    good = good_members()

    def raw(data: Callable[[], bytes]) -> Callable[[Path], Path]:
        return lambda folder: write(folder, "bad.ca2sis", data())

    def truncated(fraction: float) -> bytes:
        data = zip_bytes(good)
        return data[: int(len(data) * fraction)]

    def corrupt_deflate() -> bytes:
        data = bytearray(zip_bytes(good))
        with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
            info = zf.getinfo("project.json")
        start = info.header_offset + 30 + len(info.filename) + len(info.extra)
        data[start : start + info.compress_size] = bytes(range(256)) * (info.compress_size // 256) + bytes(
            info.compress_size % 256)
        return bytes(data)

    def bad_crc() -> bytes:
        data = bytearray(zip_bytes(good))
        for header, offset in ((b"PK\x03\x04", 14), (b"PK\x01\x02", 16)):  # the first member's CRC, twice
            at = data.index(header) + offset
            data[at : at + 4] = b"\0\0\0\0"
        return bytes(data)

    def bomb(size: int) -> bytes:  # project.json padded with spaces: a real zip bomb
        text = json.dumps(good_meta()) + " " * size
        return zip_bytes({**good, "project.json": text.encode()})

    def many_members() -> bytes:
        return zip_bytes({**good, **{f"junk/{i}": b"" for i in range(5000)}})

    return [
        Case("projects", "truncated-half", raw(lambda: truncated(0.5))),
        Case("projects", "truncated-90", raw(lambda: truncated(0.9))),
        Case("projects", "truncated-directory", raw(lambda: truncated(0.99))),
        Case("projects", "corrupt-deflate", raw(corrupt_deflate)),
        Case("projects", "bad-crc", raw(bad_crc)),
        Case("projects", "zip-bomb-json-200mb", raw(lambda: bomb(200 << 20)), slow=True),
        Case("projects", "zip-bomb-json-20mb", raw(lambda: bomb(20 << 20))),
        Case("projects", "zip-ratio-bomb-3mb", raw(lambda: bomb(3 << 20))),
        Case("projects", "json-declares-1.5gb", raw(lambda: lying_zip(good, {"project.json": 1_500_000_000}))),
        Case("projects", "mask-declares-3.9gb", raw(lambda: lying_zip(good, {"mask.png": 3_900_000_000}))),
        Case("projects", "json-declares-too-little", raw(lambda: lying_zip(good, {"project.json": 10}))),
        Case("projects", "5000-members", raw(many_members)),
        Case("projects", "gzip-not-zip", raw(lambda: zlib.compress(zip_bytes(good)))),
        Case("projects", "empty-zip", raw(lambda: zip_bytes({}))),
    ]


def cases() -> list[Case]:
    return [
        *not_files("projects", ".ca2sis"),
        *garbage("projects", ".ca2sis"),
        *_zip_cases(),
        *_settings_cases(),
        *_member_cases(),
    ]
