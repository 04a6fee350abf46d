"""The one place where files handed to the program are opened.

Photos, masks, reference faces, projects and weights all come through here, so every entry point
(``render``, ``parse``, ``models add``, ``evaluate``, the editor) refuses the same things the same
way, with a message that names the file:

* only regular files are read. A named pipe, a device, a socket or a folder is refused at once,
  without ever blocking in ``open()`` (the file is opened non-blocking and checked again after
  opening, in case it was swapped since the first look);
* sizes are capped from what the file says about itself before anything is decoded: bytes from the
  file system, pixels from the image header, members' sizes and compression ratios from a zip's
  directory;
* output paths are checked before long work starts: a folder, a pipe or a device is never a target,
  and the target's folder must take a new file (probed with a temporary file that is removed).

Nothing here imports torch or Qt.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError

# What an image file may claim before it is decoded. Photos larger than MAX_PHOTO_PIXELS are reduced
# while decoding where the format allows it (JPEG); see ca2sis.photo for the finer rules.
MAX_IMAGE_PIXELS = 400_000_000
MAX_IMAGE_BYTES = 1 << 30
MAX_SIDE = 65_535  # JPEG's own limit; a PNG "1 × 60,000,000" is no picture and decodes row by row for seconds
# A mask is decoded whole (no reduction keeps class ids intact); the largest photo kept is 50 MP.
MAX_MASK_PIXELS = 50_000_000
# Zip archives (projects, PyTorch checkpoints): what their directory may declare.
MAX_ZIP_MEMBERS = 4096
MAX_COMPRESSION_RATIO = 100  # for members above 1 MiB; compressed PNGs and JSON stay far below
RATIO_EXEMPT_BYTES = 1 << 20

# Formats a photo or a mask may be in (JPEG includes cameras' MPO files). Others (EPS, which runs
# Ghostscript; PSD; ICO; ...) are refused even when the file is named .png: Pillow picks the decoder
# from the content.
PHOTO_FORMATS = ("JPEG", "PNG", "BMP", "WEBP", "TIFF", "GIF", "PPM")
MASK_FORMATS = ("PNG", "BMP", "TIFF", "GIF")

# Pillow's own bomb guard stays as a second line: it warns beyond this and refuses beyond twice this
# while opening; every cap here is at most this, so what it would warn about is refused anyway.
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


class FileRefused(ValueError):
    """A file the program will not read or write; the message says which file and why."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _a(what: str) -> str:
    return f"an {what}" if what[:1] in "aeiou" else f"a {what}"


def _shown(path: Path) -> str:
    return repr(str(path)) if "\0" in str(path) else str(path)


def _mb(n: int) -> str:
    return f"{n / 2**20:,.1f} MB" if n < 2**30 else f"{n / 2**30:,.1f} GB"


def check_regular(path: str | Path, what: str = "file", max_bytes: int | None = None) -> os.stat_result:
    """The file's status when ``path`` is a non-empty regular file of at most ``max_bytes``."""
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise FileRefused(f"{path}: no such file") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the name
        raise FileRefused(f"{_shown(path)}: cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    if not stat.S_ISREG(st.st_mode):
        raise FileRefused(f"{path}: is {_kind(st.st_mode)}, not {_a(what)}")
    if st.st_size == 0:
        raise FileRefused(f"{path}: the file is empty, not {_a(what)}")
    if max_bytes is not None and st.st_size > max_bytes:
        raise FileRefused(f"{path}: {_mb(st.st_size)} is more than {_a(what)} may have ({_mb(max_bytes)})")
    return st


@contextlib.contextmanager
def open_regular(path: str | Path, what: str = "file", max_bytes: int | None = None) -> Iterator[BinaryIO]:
    """Open a regular file for reading without ever blocking, however the path changes meanwhile."""
    path = Path(path)
    check_regular(path, what, max_bytes)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise FileRefused(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # swapped for a pipe or a device since the first look
            raise FileRefused(f"{path}: is {_kind(st.st_mode)}, not {_a(what)}")
        f = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with f:
        yield f


def read_bytes(path: str | Path, what: str = "file", max_bytes: int = 64 << 20) -> bytes:
    """The whole file, refusing anything that is not a regular file of at most ``max_bytes``."""
    with open_regular(path, what, max_bytes) as f:
        try:
            data = f.read(max_bytes + 1)
        except OSError as exc:
            raise FileRefused(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if len(data) > max_bytes:  # it grew after the size check
        raise FileRefused(f"{path}: more than {_a(what)} may have ({_mb(max_bytes)})")
    return data


def check_pixels(size: tuple[int, int], max_pixels: int, name: str, what: str = "image") -> None:
    w, h = size
    if w < 1 or h < 1:
        raise FileRefused(f"{name}: {_a(what)} of {w}×{h} pixels has no pixels")
    if max(w, h) > MAX_SIDE:
        raise FileRefused(f"{name}: its header claims {w}×{h} pixels; {_a(what)} may be at most {MAX_SIDE:,} a side")
    if w * h > max_pixels:
        raise FileRefused(
            f"{name}: its header claims {w}×{h} pixels ({w * h / 1e6:,.0f} MP); "
            f"{_a(what)} may have at most {max_pixels / 1e6:,.0f} MP"
        )


@contextlib.contextmanager
def open_image(
    path: str | Path,
    what: str = "image",
    max_pixels: int = MAX_IMAGE_PIXELS,
    formats: tuple[str, ...] = PHOTO_FORMATS,
    max_bytes: int = MAX_IMAGE_BYTES,
) -> Iterator[Image.Image]:
    """A lazily decoded Pillow image whose header has been checked; closed on leaving the block.

    Only the header has been read when the block starts: the caller decides how to decode (JPEG
    draft mode, a mode conversion) knowing the size is within ``max_pixels``.
    """
    path = Path(path)
    with open_regular(path, what, max_bytes) as f:
        try:
            img = Image.open(f, formats=list(formats))
        except Image.DecompressionBombError as exc:
            raise FileRefused(f"{path}: too large to decode safely ({exc})") from None
        except UnidentifiedImageError:
            raise FileRefused(
                f"{path}: not a readable {what} (not one of {', '.join(formats)}, or damaged)"
            ) from None
        except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
            raise FileRefused(f"{path}: not a readable {what} ({exc})") from None
        with img:
            check_pixels(img.size, max_pixels, str(path), what)
            yield img


# ---- archives -------------------------------------------------------------------------------------
def check_archive(
    zf: zipfile.ZipFile,
    name: str,
    max_member_bytes: int,
    max_total_bytes: int,
    member_caps: dict[str, int] | None = None,
    max_members: int = MAX_ZIP_MEMBERS,
    max_ratio: float = MAX_COMPRESSION_RATIO,
) -> None:
    """Refuse a zip whose directory declares too many members, too large ones or a bomb's ratio.

    Python's zipfile never inflates a member past the size its directory declares (the CRC check then
    fails), so these declared sizes bound what reading can cost. ``member_caps`` gives smaller caps
    to named members (e.g. a project's JSON).
    """
    infos = zf.infolist()
    if len(infos) > max_members:
        raise FileRefused(f"{name}: holds {len(infos):,} members; at most {max_members:,} are allowed")
    total = 0
    for info in infos:
        cap = (member_caps or {}).get(info.filename, max_member_bytes)
        if info.file_size > cap:
            raise FileRefused(f"{name}: {info.filename} unpacks to {_mb(info.file_size)}; at most {_mb(cap)}")
        if info.file_size > RATIO_EXEMPT_BYTES and info.file_size > max_ratio * max(info.compress_size, 1):
            raise FileRefused(
                f"{name}: {info.filename} would expand {info.file_size / max(info.compress_size, 1):,.0f}-fold "
                f"(a zip bomb?); at most {max_ratio:,.0f}-fold is allowed"
            )
        total += info.file_size
    if total > max_total_bytes:
        raise FileRefused(f"{name}: unpacks to {_mb(total)} in all; at most {_mb(max_total_bytes)}")


def read_member(zf: zipfile.ZipFile, member: str, name: str) -> bytes:
    """One member's bytes, never more than its declared size (checked by :func:`check_archive`)."""
    info = zf.getinfo(member)
    try:
        with zf.open(info) as f:
            data = f.read(info.file_size + 1)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise FileRefused(f"{name}: {member} is damaged ({exc})") from None
    except Exception as exc:  # zlib.error and friends from a corrupt deflate stream
        raise FileRefused(f"{name}: {member} is damaged ({type(exc).__name__}: {exc})") from None
    if len(data) != info.file_size:
        raise FileRefused(f"{name}: {member} does not have the size its archive declares")
    return data


# ---- outputs --------------------------------------------------------------------------------------
def check_output(path: str | Path, what: str = "output file", suffixes: tuple[str, ...] | None = None) -> Path:
    """Refuse an output path before any long work: wrong suffix, not a file, or a folder that takes no file.

    Nothing is left behind: missing folders are not created here (the atomic writer creates them
    when it writes), and the probe file is removed.
    """
    path = Path(path)
    if not path.name or path.name in (".", ".."):
        raise FileRefused(f"{path}: names a folder, not {_a(what)}")
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise FileRefused(f"{path}: {_a(what)} must end in {' or '.join(suffixes)}")
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):  # the folder part is checked below
        st = None
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the name
        raise FileRefused(f"{_shown(path)}: cannot be written ({getattr(exc, 'strerror', None) or exc})") from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise FileRefused(f"{path}: is {_kind(st.st_mode)}; {_a(what)} must be a regular file")
    folder = path.parent
    while not folder.exists():  # the nearest folder that exists must take the missing ones
        if folder == folder.parent:
            break
        folder = folder.parent
    if not folder.is_dir():
        raise FileRefused(f"{path}: {folder} is not a folder")
    probe_folder(folder, path)
    return path


def probe_folder(folder: Path, for_path: Path | None = None) -> None:
    """Create and remove a temporary file in ``folder``: the only test of writability that holds for
    every user (root included) and every file system (read-only mounts, /proc)."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".ca2sis-probe.", suffix=".tmp", dir=folder)
    except OSError as exc:
        target = for_path if for_path is not None else folder
        raise FileRefused(f"{target}: {folder} does not take new files ({exc.strerror or exc})") from None
    os.close(fd)
    os.unlink(tmp)
