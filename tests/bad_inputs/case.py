"""A bad input: how to make it, what kind of thing it is, and what an entry point must do with it."""

from __future__ import annotations

import os
import socket
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MARKER = "code-ran"  # hostile files try to create this next to their folder: its existence is an escape


@dataclass(frozen=True)
class Case:
    """``make(folder)`` writes the input into ``folder`` and returns its path (or, for value
    categories, returns the value itself: a name, a device string, an output path).

    ``valid``: a well-formed input that some entry points may accept (a 1×1 photo is a photo; it is
    too small to render from). Every other case must be refused by every entry point.
    ``slow``: expensive to make or to process; left to the full sweep (``-m slow``, the bench script).
    """

    category: str
    name: str
    make: Callable[[Path], Path | str]
    valid: bool = False
    slow: bool = False

    @property
    def id(self) -> str:
        return f"{self.category}/{self.name}"


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def writer(name: str, data: bytes | Callable[[], bytes]) -> Callable[[Path], Path]:
    return lambda folder: write(folder, name, data() if callable(data) else data)


# ---- raw PNG ----------------------------------------------------------------------------------------
def chunk(kind: bytes, data: bytes, crc: int | None = None) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF if crc is None else crc
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png(width: int, height: int, colour_type: int = 0, depth: int = 8, idat: bytes | None = None,
        extra: bytes = b"", rows: int | None = None) -> bytes:
    """A PNG built by hand: any header (even a lying one), ``rows`` rows of zeros (all by default)."""
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(colour_type, 1)
    if idat is None:
        row = b"\0" + b"\0" * ((width * channels * depth + 7) // 8)
        packer = zlib.compressobj(1)
        count = height if rows is None else rows
        body = b"".join(packer.compress(row) for _ in range(count)) + packer.flush()
        idat = body
    header = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)
    plte = chunk(b"PLTE", bytes(range(256)) * 3) if colour_type == 3 else b""
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + plte + extra + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


# ---- things that are not regular files ----------------------------------------------------------------
def _missing(folder: Path) -> Path:
    return folder / "absent.png"


def _directory(folder: Path) -> Path:
    (folder / "folder.png").mkdir()
    return folder / "folder.png"


def _fifo(folder: Path) -> Path:
    os.mkfifo(folder / "pipe.png")
    return folder / "pipe.png"


def _fifo_link(folder: Path) -> Path:
    os.mkfifo(folder / "pipe")
    (folder / "link.png").symlink_to(folder / "pipe")
    return folder / "link.png"


def _device(folder: Path) -> Path:
    (folder / "zero.png").symlink_to("/dev/zero")  # endless zeros: a reader that trusts it never ends
    return folder / "zero.png"


def _socket(folder: Path) -> Path:
    path = folder / "sock.png"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    here = os.getcwd()
    try:
        os.chdir(folder)  # a relative name: socket paths are limited to about 100 characters
        s.bind("sock.png")
    finally:
        os.chdir(here)
        s.close()  # the socket file stays
    return path


def _dangling(folder: Path) -> Path:
    (folder / "dangling.png").symlink_to(folder / "nowhere")
    return folder / "dangling.png"


def _loop(folder: Path) -> Path:
    (folder / "a.png").symlink_to(folder / "b.png")
    (folder / "b.png").symlink_to(folder / "a.png")
    return folder / "a.png"


def _nul(folder: Path) -> Path:
    return folder / "a\0b.png"  # cannot exist; only reachable in-process (argv cannot hold NUL)


def _empty(folder: Path) -> Path:
    return write(folder, "empty.png", b"")


NOT_FILES: dict[str, Callable[[Path], Path]] = {
    "missing": _missing,
    "directory": _directory,
    "fifo": _fifo,
    "symlink-to-fifo": _fifo_link,
    "device": _device,
    "socket": _socket,
    "dangling-symlink": _dangling,
    "symlink-loop": _loop,
    "empty": _empty,
    "nul-in-name": _nul,
}


def not_files(category: str, suffix: str) -> list[Case]:
    """The same non-files for every category, renamed to the category's suffix."""

    def renamed(make: Callable[[Path], Path]) -> Callable[[Path], Path]:
        def inner(folder: Path) -> Path:
            path = make(folder)
            if "\0" in str(path):
                return path
            target = path.with_suffix(suffix)
            if path.is_symlink() or path.exists():
                os.rename(path, target)
            return target

        return inner

    return [Case(category, name, renamed(make)) for name, make in NOT_FILES.items()]


def garbage(category: str, suffix: str) -> list[Case]:
    """Bytes that are nothing in particular, under the category's suffix."""
    samples = {
        "text": b"this is not what it claims to be\n" * 3,
        "random-16": os.urandom(16),
        "random-4k": bytes((i * 7919 + 13) % 256 for i in range(4096)),
        "zeros-1m": b"\0" * (1 << 20),
        "html": b"<!doctype html><html><body>404</body></html>",
        "json": b'{"models": [], "format": "ca2sis-project"}',
        "elf": b"\x7fELF\x02\x01\x01" + b"\0" * 57,
        "pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n",
        "gzip": b"\x1f\x8b\x08\x00" + b"\0" * 60,
        "one-byte": b"\x89",
    }
    return [Case(category, f"garbage-{name}", writer(f"garbage{suffix}", data)) for name, data in samples.items()]
