"""Bad photos: not files, garbage, truncated and corrupt files of every format, lying headers, bombs,
formats that must never be decoded, and odd but valid pictures."""

from __future__ import annotations

import functools
import io
import struct
import zlib

import numpy as np
from PIL import Image

from tests.bad_inputs.case import Case, chunk, garbage, not_files, png, writer

ZEROS = zlib.compress(b"\0" * 4096)
FORMATS = {"png": "PNG", "jpg": "JPEG", "gif": "GIF", "bmp": "BMP", "tif": "TIFF", "webp": "WEBP"}


@functools.cache
def encoded(fmt: str, size: tuple[int, int] = (48, 40), **options) -> bytes:
    """A small gradient picture in ``fmt``."""
    w, h = size
    y, x = np.mgrid[0:h, 0:w]
    rgb = np.stack([x * 255 // max(w - 1, 1), y * 255 // max(h - 1, 1), (x + y) % 256], axis=2).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format=fmt, **options)
    return buf.getvalue()


def _truncated() -> list[Case]:
    cases = []
    for suffix, fmt in FORMATS.items():
        data = encoded(fmt)
        for label, cut in (("header", 12), ("quarter", len(data) // 4), ("half", len(data) // 2),
                           ("most", len(data) * 3 // 4)):
            cases.append(Case("images", f"truncated-{suffix}-{label}", writer(f"cut.{suffix}", data[:cut])))
        cases.append(Case("images", f"truncated-{suffix}-last-byte", writer(f"cut.{suffix}", data[:-1]), valid=True))
        for at in (0.3, 0.6, 0.9):  # one flipped byte: some decoders notice, some draw a glitch
            flipped = bytearray(data)
            flipped[int(len(data) * at)] ^= 0xFF
            cases.append(Case("images", f"flipped-{suffix}-{int(at * 100)}", writer(f"flip.{suffix}", bytes(flipped)),
                              valid=True))
    progressive = encoded("JPEG", progressive=True)
    cases.append(Case("images", "truncated-progressive-jpg", writer("cut.jpg", progressive[: len(progressive) // 2])))
    return cases


def _png_with_bad_idat(kind: str) -> bytes:
    if kind == "corrupt-deflate":
        return png(48, 40, 2, idat=b"\x78\x9c" + bytes(range(200)))
    if kind == "short-idat":  # valid deflate, too few rows (Pillow leaves the rest black)
        return png(48, 40, 2, rows=3)
    if kind == "bad-crc":
        good = png(48, 40, 2)
        return good[:29] + b"\0\0\0\0" + good[33:]  # the IHDR's CRC
    if kind == "zero-width":
        return png(0, 40, 2, idat=zlib.compress(b""))
    if kind == "colour-type-7":
        return png(48, 40, 7, idat=zlib.compress(b"\0" * 100))
    if kind == "depth-3":
        return png(48, 40, 0, depth=3, idat=zlib.compress(b"\0" * 100))
    if kind == "chunk-length-2^31":
        data = bytearray(png(48, 40, 2))
        data[33:37] = struct.pack(">I", 2**31 - 1)  # the IDAT claims 2 GB
        return bytes(data)
    if kind == "no-idat":
        data = png(48, 40, 2)
        return data[:33] + chunk(b"IEND", b"")
    raise ValueError(kind)


def _lying_headers() -> list[Case]:
    """Headers that claim far more pixels than the file holds (decoding would take GB and minutes)."""
    cases = [
        Case("images", f"png-claims-{w}x{h}", writer("huge.png", functools.partial(png, w, h, 2, idat=ZEROS)))
        for w, h in ((100_000, 100_000), (65_535, 65_535), (20_000, 20_000), (11_000, 11_000),
                     (1_000_000_000, 1), (1, 500_000_000))
    ]
    cases.append(Case("images", "png-claims-2^31", writer("huge.png", functools.partial(
        png, 2**31 - 1, 2**31 - 1, 0, idat=zlib.compress(b"\0" * 64)))))
    cases.append(Case("images", "gif-claims-65535", writer("huge.gif", lambda: _gif_header(65535, 65535))))
    cases.append(Case("images", "bmp-claims-100000", writer("huge.bmp", lambda: _bmp_header(100_000, 100_000))))
    cases.append(Case("images", "jpeg-claims-65500", writer("huge.jpg", lambda: _jpeg_with_size(65500, 65500))))
    cases.append(Case("images", "jpeg-claims-30000", writer("huge.jpg", lambda: _jpeg_with_size(30000, 30000))))
    cases.append(Case("images", "tiff-claims-200000", writer("huge.tif", lambda: _tiff_with_size(200_000, 200_000))))
    cases.append(Case("images", "webp-claims-16383", writer("huge.webp", lambda: _webp_with_size(16383, 16383))))
    return cases


def _gif_header(w: int, h: int) -> bytes:
    data = bytearray(encoded("GIF"))
    data[6:10] = struct.pack("<HH", w, h)  # logical screen
    at = data.index(b"\x2c")  # the first image descriptor
    data[at + 5 : at + 9] = struct.pack("<HH", w, h)
    return bytes(data)


def _bmp_header(w: int, h: int) -> bytes:
    data = bytearray(encoded("BMP"))
    data[18:26] = struct.pack("<ii", w, h)
    return bytes(data)


def _jpeg_with_size(w: int, h: int) -> bytes:
    data = bytearray(encoded("JPEG"))
    at = data.index(b"\xff\xc0")  # start of frame: length, precision, height, width
    data[at + 5 : at + 9] = struct.pack(">HH", h, w)
    return bytes(data)


def _tiff_with_size(w: int, h: int) -> bytes:
    data = bytearray(encoded("TIFF"))
    for tag, value in ((256, w), (257, h)):  # ImageWidth, ImageLength, stored as SHORT or LONG
        for kind in (3, 4):
            entry = struct.pack("<HHI", tag, kind, 1)
            at = data.find(entry)
            if at >= 0:
                packed = struct.pack("<I", value) if kind == 4 else struct.pack("<HH", value & 0xFFFF, 0)
                data[at + 8 : at + 12] = packed
    return bytes(data)


def _webp_with_size(w: int, h: int) -> bytes:
    data = bytearray(encoded("WEBP", lossless=True))
    at = data.index(b"VP8L") + 8  # signature byte, then 14-bit width-1 and height-1
    bits = (w - 1) | ((h - 1) << 14)
    data[at + 1 : at + 5] = struct.pack("<I", bits | (int.from_bytes(data[at + 1 : at + 5], "little") & ~0x0FFFFFFF))
    return bytes(data)


def _foreign_formats() -> list[Case]:
    """Formats a photo is never decoded from, whatever the file is called (EPS would run Ghostscript)."""
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 40 40\n(x) print\nshowpage\n%%EOF\n"
    psd = b"8BPS\x00\x01" + b"\0" * 6 + struct.pack(">HIIHH", 3, 40, 48, 8, 3) + b"\0" * 64

    def ico() -> bytes:
        buf = io.BytesIO()
        Image.new("RGB", (32, 32)).save(buf, format="ICO")
        return buf.getvalue()

    def pcx() -> bytes:
        buf = io.BytesIO()
        Image.new("RGB", (32, 32)).save(buf, format="PCX")
        return buf.getvalue()

    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="99999" height="99999"></svg>'
    return [Case("images", f"{name}-named-png", writer("photo.png", data))
            for name, data in (("eps", eps), ("psd", psd), ("ico", ico), ("pcx", pcx), ("svg", svg))]


def _hostile_chunks() -> list[Case]:
    big_text = chunk(b"zTXt", b"comment\0\0" + zlib.compress(b"A" * (50 << 20), 9))  # 50 MB of text
    many = b"".join(chunk(b"tEXt", b"k\0" + b"v" * 100) for _ in range(20_000))
    bad_icc = chunk(b"iCCP", b"icc\0\0" + b"not deflate at all")
    return [
        Case("images", "png-text-bomb", writer("text.png", lambda: png(48, 40, 2, extra=big_text)), valid=True),
        Case("images", "png-20000-text-chunks", writer("chunks.png", lambda: png(48, 40, 2, extra=many)), valid=True),
        Case("images", "png-corrupt-icc", writer("icc.png", lambda: png(48, 40, 2, extra=bad_icc)), valid=True),
    ]


def _odd_but_valid() -> list[Case]:
    def one(mode: str, size=(1, 1), fmt="PNG") -> bytes:
        buf = io.BytesIO()
        Image.new(mode, size).save(buf, format=fmt)
        return buf.getvalue()

    def frames(n: int) -> bytes:
        buf = io.BytesIO()
        first = Image.new("P", (8, 8))
        first.save(buf, format="GIF", save_all=True, append_images=[Image.new("P", (8, 8), i % 7) for i in range(n)])
        return buf.getvalue()

    def bomb(side: int) -> bytes:  # a real picture of zeros: a few kB that decode to side² pixels
        return png(side, side, 0)

    return [
        Case("images", "one-pixel", writer("one.png", lambda: one("RGB")), valid=True),
        Case("images", "one-row", writer("row.png", lambda: one("RGB", (4000, 1))), valid=True),
        Case("images", "one-bit", writer("bits.png", lambda: one("1", (64, 64))), valid=True),
        Case("images", "16-bit-gray", writer("deep.png", lambda: one("I;16", (64, 64))), valid=True),
        Case("images", "cmyk-jpeg", writer("cmyk.jpg", lambda: one("CMYK", (64, 64), "JPEG")), valid=True),
        Case("images", "float-tiff", writer("float.tif", lambda: one("F", (64, 64), "TIFF")), valid=True),
        Case("images", "gif-3000-frames", writer("frames.gif", lambda: frames(3000)), valid=True),
        Case("images", "png-bomb-3000", writer("bomb.png", lambda: bomb(3000)), valid=True),
        Case("images", "png-bomb-7000", writer("bomb.png", lambda: bomb(7000)), valid=True, slow=True),
        Case("images", "png-bomb-10900", writer("bomb.png", lambda: bomb(10_900)), valid=True, slow=True),
    ]


def _corrupt() -> list[Case]:
    cases = [Case("images", "png-short-idat", writer("bad.png", functools.partial(_png_with_bad_idat, "short-idat")),
                  valid=True)]
    cases += [Case("images", f"png-{kind}", writer("bad.png", functools.partial(_png_with_bad_idat, kind)))
              for kind in ("corrupt-deflate", "bad-crc", "zero-width", "colour-type-7", "depth-3",
                          "no-idat")]
    cases.append(Case("images", "png-chunk-length-2^31", writer("bad.png", functools.partial(
        _png_with_bad_idat, "chunk-length-2^31")), valid=True))
    jpeg = encoded("JPEG")
    cases.append(Case("images", "jpeg-no-eoi-garbage-scan", writer("bad.jpg", jpeg[:200] + b"\xff\xd9"), valid=True))
    cases.append(Case("images", "jpeg-only-soi", writer("bad.jpg", b"\xff\xd8\xff\xd9")))
    cases.append(Case("images", "gif-no-image", writer("bad.gif", encoded("GIF")[:13] + b"\x3b")))
    tif = bytearray(encoded("TIFF"))
    tif[4:8] = struct.pack("<I", 10**9)  # the first directory lies far past the end
    cases.append(Case("images", "tiff-directory-past-end", writer("bad.tif", bytes(tif))))
    bmp = bytearray(encoded("BMP"))
    bmp[10:14] = struct.pack("<I", 10**8)  # pixel data past the end
    cases.append(Case("images", "bmp-data-past-end", writer("bad.bmp", bytes(bmp))))
    bmp2 = bytearray(encoded("BMP"))
    bmp2[28:30] = struct.pack("<H", 13)  # 13 bits per pixel
    cases.append(Case("images", "bmp-13-bit", writer("bad.bmp", bytes(bmp2))))
    return cases


def cases() -> list[Case]:
    return [
        *not_files("images", ".png"),
        *garbage("images", ".jpg"),
        *_truncated(),
        *_corrupt(),
        *_lying_headers(),
        *_foreign_formats(),
        *_hostile_chunks(),
        *_odd_but_valid(),
    ]
