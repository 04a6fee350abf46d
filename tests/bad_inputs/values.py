"""Bad values: model names (they become file names), device strings, output paths, and model
manifests with bad entries. A value case's ``make`` returns the value (a text); output paths and
manifests may create what they point at (a folder, a pipe, a link) inside the given folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.bad_inputs.case import Case, write

NAMES = {
    "empty": "", "dot": ".", "dot-dot": "..", "parent": "../x", "far-parent": "../../../somewhere/x",
    "absolute": "/tmp/x", "slash": "a/b", "backslash": "a\\b", "65-chars": "x" * 65, "1000-chars": "y" * 1000,
    "con": "con", "nul-txt": "NUL.txt", "com1": "COM1", "leading-dash": "-x", "leading-space": " space",
    "tab": "tab\tname", "newline": "new\nline", "accent": "é", "dot-dot-inside": "a..b", "trailing-dot": "x.",
    "hidden": ".hidden", "colon": "a:b", "star": "*", "question": "?", "shell": "$(touch x)", "semicolon": ";ls",
    "spaces": "name with spaces", "nul": "a\0b", "tilde": "~", "tilde-user": "~root/x", "percent": "x%2F..",
    "bundled-demo": "demo-128", "bundled-parser": "face-parser", "rtl-override": "\u202egnp.exe", "emoji": "😀",
    "suffix-only": "..safetensors",
}

DEVICES = [
    "tpu:7", "cuda:99", "cuda:-1", "cpu:1", "gpu", "cuda:0:1", "meta", "xla", "hpu", "1", "-1", "cuda:1e3",
    "auto:0", "mps:3", "ÄÖ", "../cpu", "privateuseone", "vulkan", "ipu", "cuda:99999", "cpu,cuda", "c p u",
    "cuda:", ":0", "None", "", "cpu\0",
]
# Fine on some machines: a CUDA device, Apple's GPU, or the CPU spelt differently.
MAYBE_DEVICES = ["cuda", "mps", "CPU", " cpu", "cpu\n"]


def _output(kind: str):
    def make(folder: Path) -> str:
        if kind == "directory":
            (folder / "out.png").mkdir()
            return str(folder / "out.png")
        if kind == "fifo":
            os.mkfifo(folder / "out.png")
            return str(folder / "out.png")
        if kind in ("dev-null", "dev-full", "dev-zero"):
            (folder / "out.png").symlink_to(f"/dev/{kind[4:]}")
            return str(folder / "out.png")
        if kind == "link-to-folder":
            (folder / "real").mkdir()
            (folder / "out.png").symlink_to(folder / "real")
            return str(folder / "out.png")
        if kind == "link-loop":
            (folder / "out.png").symlink_to(folder / "other.png")
            (folder / "other.png").symlink_to(folder / "out.png")
            return str(folder / "out.png")
        if kind == "under-a-file":
            write(folder, "file.png", b"x")
            return str(folder / "file.png" / "out.png")
        if kind == "under-a-fifo":
            os.mkfifo(folder / "pipe")
            return str(folder / "pipe" / "out.png")
        if kind == "proc":
            return "/proc/ca2sis-out.png"
        if kind == "sys":
            return "/sys/ca2sis-out.png"
        if kind == "name-300":
            return str(folder / ("n" * 300 + ".png"))
        if kind == "folder-300":
            return str(folder / ("d" * 300) / "out.png")
        if kind == "empty":
            return ""
        if kind == "dot":
            return "."
        if kind == "dot-dot":
            return str(folder / "..")
        if kind == "root":
            return "/"
        if kind == "nul":
            return str(folder / "a\0b.png")
        raise ValueError(kind)

    return make


OUTPUTS = ["directory", "fifo", "dev-null", "dev-full", "dev-zero", "link-to-folder", "link-loop", "under-a-file",
           "under-a-fifo", "proc", "sys", "name-300", "folder-300", "empty", "dot", "dot-dot", "root", "nul"]


def _manifest(content: object | bytes, kind: str = "file"):
    def make(folder: Path) -> Path:
        path = folder / "manifest.json"
        if kind == "fifo":
            os.mkfifo(path)
        elif kind == "directory":
            path.mkdir()
        else:
            path.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
        return path

    return make


def _entry(**changes) -> dict:
    entry = {"name": "mine", "file": "mine.safetensors", "kind": "synthesis", "source": "me", "license": "MIT"}
    return {k: v for k, v in {**entry, **changes}.items() if v is not ...}


MANIFESTS = {
    # one bad entry among good ones: listed with a warning, the rest keeps working
    "nameless-entry": ({"models": [_entry(name="", file=".safetensors")]}, True),
    "name-parent": ({"models": [_entry(name="../x")]}, True),
    "file-parent": ({"models": [_entry(file="../../outside.safetensors")]}, True),
    "file-absolute": ({"models": [_entry(file="/etc/passwd")]}, True),
    "kind-bogus": ({"models": [_entry(kind="bogus")]}, True),
    "location-elsewhere": ({"models": [_entry(location="elsewhere")]}, True),
    "missing-license": ({"models": [_entry(license=...)]}, True),
    "unknown-field": ({"models": [_entry(evil=1)]}, True),
    "entry-list": ({"models": [["mine", "mine.safetensors"]]}, True),
    "entry-number": ({"models": [5]}, True),
    "description-list": ({"models": [_entry(description=["a"])]}, True),
    "default-unknown": ({"models": [], "default": "nobody"}, True),
    "default-number": ({"models": [], "default": 7}, True),
    # the manifest as a whole cannot be read: a clear error
    "models-object": ({"models": {"mine": _entry()}}, False),
    "manifest-list": ([_entry()], False),
    "not-json": (b"{models: [", False),
    "nan": (b'{"models": [], "x": NaN}', True),
    "nested": (b"[" * 100_000 + b"]" * 100_000, False),
    "5mb": (json.dumps({"models": [], "pad": "x" * (5 << 20)}).encode(), False),
    "not-utf8": (b"\xff\xfe{}", False),
}


def cases() -> list[Case]:
    cases = [Case("names", name, lambda folder, v=value: v) for name, value in NAMES.items()]
    cases += [Case("devices", repr(d)[1:-1] or "empty", lambda folder, v=d: v) for d in DEVICES]
    cases += [Case("devices", repr(d)[1:-1], lambda folder, v=d: v, valid=True) for d in MAYBE_DEVICES]
    cases += [Case("outputs", kind, _output(kind)) for kind in OUTPUTS]
    cases += [Case("manifests", name, _manifest(content), valid=valid) for name, (content, valid) in MANIFESTS.items()]
    cases += [Case("manifests", kind, _manifest(None, kind)) for kind in ("fifo", "directory")]
    return cases
