"""The one place where files are opened: regular files only, never blocking; caps checked from the
header or the zip directory before anything is decoded; outputs checked before any work."""

from __future__ import annotations

import io
import os
import threading
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from ca2sis.safe_files import (
    FileRefused,
    check_archive,
    check_output,
    open_image,
    read_bytes,
    read_member,
)
from tests.bad_inputs.case import png
from tests.bad_inputs.projects import lying_zip


def answered_within(seconds: float, fn):
    """``fn()``'s exception (or None), failing if it has not answered in time (a pipe would block)."""
    box: list[BaseException | None] = []

    def run() -> None:
        try:
            fn()
            box.append(None)
        except BaseException as exc:  # noqa: BLE001
            box.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert box, f"no answer within {seconds} s"
    return box[0]


@pytest.mark.parametrize("kind", ["fifo", "folder", "device"])
def test_what_is_not_a_regular_file_is_refused_at_once(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "x.png"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    else:
        path.symlink_to("/dev/zero")
    for read in (lambda: read_bytes(path), lambda: open_image(path).__enter__()):
        error = answered_within(5, read)
        assert isinstance(error, FileRefused) and {"fifo": "named pipe", "folder": "folder",
                                                   "device": "device"}[kind] in str(error)
    if kind == "fifo":  # a pipe nobody writes to: whoever opens it blocks. Nobody did.
        with pytest.raises(OSError):
            os.open(path, os.O_WRONLY | os.O_NONBLOCK)  # ENXIO: no reader has it open


def test_an_image_is_refused_from_its_header_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(png(19_999, 19_999, 0, rows=2))  # the data would unpack to 400 MB
    with pytest.raises(FileRefused, match="19999×19999"):
        open_image(path, "mask", max_pixels=50_000_000).__enter__()
    path.write_bytes(png(1, 60_000_000, 0, rows=2))
    with pytest.raises(FileRefused, match="a side"):
        open_image(path, "photo").__enter__()


def test_formats_that_are_never_photos_are_refused_by_content(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 4 4\nshowpage\n")  # Pillow would run Ghostscript
    with pytest.raises(FileRefused, match="not a readable photo"):
        open_image(path, "photo").__enter__()
    buf = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buf, format="JPEG")
    path.write_bytes(buf.getvalue())
    with pytest.raises(FileRefused, match="PNG, BMP, TIFF, GIF"):
        open_image(path, "mask", formats=("PNG", "BMP", "TIFF", "GIF")).__enter__()


def test_a_zip_is_refused_from_its_directory(tmp_path: Path) -> None:
    declared = zipfile.ZipFile(io.BytesIO(lying_zip({"a.json": b"{}"}, {"a.json": 1_500_000_000})))
    with pytest.raises(FileRefused, match="unpacks to 1.4 GB"):
        check_archive(declared, "x", 512 << 20, 1 << 30)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.json", " " * (3 << 20))  # 3 MB of spaces: a few kB compressed
    with pytest.raises(FileRefused, match="fold"):
        check_archive(zipfile.ZipFile(buf), "x", 4 << 20, 1 << 30)
    # A member whose directory entry under-states its size never yields more than it declares.
    short = zipfile.ZipFile(io.BytesIO(lying_zip({"a.json": b"{" * 100}, {"a.json": 10})))
    with pytest.raises(FileRefused, match="damaged"):
        read_member(short, "a.json", "x")


def test_outputs_are_checked_before_any_work_and_the_probe_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "folder.png").mkdir()
    os.mkfifo(tmp_path / "pipe.png")
    (tmp_path / "null.png").symlink_to("/dev/null")
    (tmp_path / "file").write_text("x")
    refused = {
        tmp_path / "folder.png": "a folder",
        tmp_path / "pipe.png": "named pipe",
        tmp_path / "null.png": "a device",
        tmp_path / "file" / "out.png": "not a folder",
        Path("/proc/x.png"): "does not take new files",
        tmp_path / "out.txt": "must end in .png",
    }
    before = sorted(os.listdir(tmp_path))
    for path, words in refused.items():
        with pytest.raises(FileRefused, match=words):
            check_output(path, "image", (".png",))
    assert check_output(tmp_path / "new" / "deeper" / "out.png", "image", (".png",))  # folders come later
    assert sorted(os.listdir(tmp_path)) == before  # no probe file, no folder created
