"""Bad masks: class ids outside the label set, modes that hold no ids, sizes that match nothing,
photos passed as colour masks, lying headers and mask bombs.

Entry points that render read a mask together with a 32² style photo (``companions.STYLE``), so a
mask of another size is refused there even when it would be a fine mask on its own.
"""

from __future__ import annotations

import functools
import io

import numpy as np
from PIL import Image

from ca2sis.classes import CELEBAMASK_HQ
from tests.bad_inputs.case import Case, garbage, not_files, png, writer
from tests.bad_inputs.images import ZEROS


def encode(array: np.ndarray, mode: str | None = None, fmt: str = "PNG", palette: bool = False) -> bytes:
    img = Image.fromarray(array, mode) if mode else Image.fromarray(array)
    if palette:
        img = img.convert("P")
        pal = np.zeros((256, 3), np.uint8)
        pal[:19] = CELEBAMASK_HQ.palette()
        img.putpalette(pal.ravel().tolist())
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def ids(value: int, size: tuple[int, int] = (32, 32), dtype=np.uint8) -> np.ndarray:
    mask = np.zeros(size[::-1], dtype)
    mask[4:-4, 4:-4] = 1
    mask[10:14, 10:14] = value
    return mask


def _wrong_ids() -> list[Case]:
    cases = [Case("masks", f"gray-id-{v}", writer("mask.png", functools.partial(lambda v: encode(ids(v)), v)))
             for v in (19, 20, 100, 254, 255)]
    cases += [Case("masks", f"palette-index-{v}", writer("mask.png", functools.partial(_palette_png, v)))
              for v in (19, 200)]
    cases.append(Case("masks", "16-bit-id-65535", writer("mask.png", lambda: encode(ids(65535, dtype=np.uint16)))))
    cases.append(Case("masks", "16-bit-id-19", writer("mask.png", lambda: encode(ids(19, dtype=np.uint16)))))
    negative = ids(-3, dtype=np.int32)
    cases.append(Case("masks", "32-bit-negative", writer("mask.tif", lambda: encode(negative, fmt="TIFF"))))
    gray_rgb = np.repeat(ids(19)[..., None], 3, 2)
    cases.append(Case("masks", "gray-rgb-id-19", writer("mask.png", lambda: encode(gray_rgb))))
    return cases


def _palette_png(value: int) -> bytes:
    img = Image.fromarray(ids(value), "P")
    img.putpalette(list(range(256)) * 3)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _wrong_modes() -> list[Case]:
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    y, x = np.mgrid[0:32, 0:32]
    gradient = np.stack([x * 8, y * 8, (x + y) * 4], 2).astype(np.uint8)
    off_palette = CELEBAMASK_HQ.colorize(ids(2)).copy()
    off_palette[0, 0] = (1, 2, 250)  # one colour far from every class colour
    rgba = np.concatenate([CELEBAMASK_HQ.colorize(ids(2)), np.full((32, 32, 1), 128, np.uint8)], 2)
    rgba[5, 5, :3] = (7, 250, 3)
    return [
        Case("masks", "photo-as-colour-mask", writer("mask.png", lambda: encode(photo))),
        Case("masks", "gradient-as-colour-mask", writer("mask.png", lambda: encode(gradient))),
        Case("masks", "off-palette-pixel", writer("mask.png", lambda: encode(off_palette))),
        Case("masks", "rgba-off-palette", writer("mask.png", lambda: encode(rgba, "RGBA"))),
        Case("masks", "one-bit", writer("mask.png", lambda: encode(ids(1).astype(bool)))),
        Case("masks", "gray-alpha", writer("mask.png", lambda: encode(np.stack([ids(2), ids(2)], 2), "LA"))),
        Case("masks", "float-tiff", writer("mask.tif", lambda: encode(ids(2).astype(np.float32), "F", "TIFF"))),
        Case("masks", "cmyk-tiff", writer("mask.tif", lambda: _converted("CMYK", "TIFF"))),
        Case("masks", "jpeg-mask", writer("mask.png", lambda: encode(CELEBAMASK_HQ.colorize(ids(2)), fmt="JPEG"))),
        Case("masks", "webp-mask", writer("mask.png", lambda: encode(CELEBAMASK_HQ.colorize(ids(2)), fmt="WEBP"))),
        Case("masks", "lab-tiff", writer("mask.tif", lambda: _converted("LAB", "TIFF"))),
    ]


def _converted(mode: str, fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(CELEBAMASK_HQ.colorize(ids(2))).convert(mode).save(buf, format=fmt)
    return buf.getvalue()


def _wrong_sizes() -> list[Case]:
    """Fine masks, but not of the 32² style photo they come with (a render refuses them)."""
    return [
        Case("masks", f"size-{w}x{h}", writer("mask.png", functools.partial(lambda w, h: encode(ids(1, (w, h))), w, h)),
             valid=True)
        for w, h in ((1, 1), (3, 5), (33, 32), (32, 64), (4000, 1))
    ]


def _lying_headers() -> list[Case]:
    return [
        Case("masks", f"claims-{w}x{h}", writer("mask.png", functools.partial(png, w, h, 0, idat=ZEROS)))
        for w, h in ((19_999, 19_999), (100_000, 100_000), (8000, 8000), (1, 60_000_000))
    ]


def _bombs() -> list[Case]:
    """Masks that really are that large: a few kB that decode to tens of megapixels."""
    def colour(side: int, photo: bool) -> bytes:
        if photo:  # a smooth photo-like image: compresses well, has no class colours
            y, x = np.mgrid[0:side, 0:side]
            rgb = np.stack([(x // 7) % 256, (y // 7) % 256, np.full_like(x, 77)], 2).astype(np.uint8)
        else:
            stripes = np.broadcast_to((np.arange(side) // 97 % 19).astype(np.uint8), (side, side))
            rgb = CELEBAMASK_HQ.colorize(stripes)
        return encode(rgb)

    return [
        Case("masks", "valid-5000-index", writer("mask.png", functools.partial(png, 5000, 5000, 0)), valid=True),
        Case("masks", "valid-7000-index", writer("mask.png", functools.partial(png, 7000, 7000, 0)), valid=True,
             slow=True),
        Case("masks", "colour-1500", writer("mask.png", functools.partial(colour, 1500, False)), valid=True),
        Case("masks", "photo-1500", writer("mask.png", functools.partial(colour, 1500, True))),
        Case("masks", "colour-6000", writer("mask.png", functools.partial(colour, 6000, False)), valid=True, slow=True),
        Case("masks", "photo-6000", writer("mask.png", functools.partial(colour, 6000, True)), slow=True),
    ]


def cases() -> list[Case]:
    return [
        *not_files("masks", ".png"),
        *garbage("masks", ".png"),
        *_wrong_ids(),
        *_wrong_modes(),
        *_wrong_sizes(),
        *_lying_headers(),
        *_bombs(),
    ]
