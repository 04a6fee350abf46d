"""Draw the Fit-to-photo figure: photo | unfitted reconstruction | fitted reconstruction | fitted + hair
style from a reference | fitted + hair shape moved to the reference's | the reference.

    python docs/make_fit_figure.py [--data HELD_OUT_FOLDER] [--faces NAME ...] [--steps N] [--out docs/fit.png]

Without ``--data`` the bundled sample portraits are used (``resources/samples``); with it, held-out
``images/`` + ``masks/`` pairs (the first ``--rows`` after ``--skip`` by sorted name, or ``--faces``), each
row taking the next row's face (cyclically) as its reference. Everything goes through :class:`ca2sis.editor.Editor`
with the editor's default fit, as the app does; each tile is labelled with its PSNR to the photo.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs" / "demo"))

from make_grid import compose, save_atomic, small  # noqa: E402

from ca2sis.editor import Editor  # noqa: E402
from ca2sis.fit import default_config  # noqa: E402
from ca2sis.fit.session import image_psnr  # noqa: E402
from ca2sis.photo import load_image, load_mask  # noqa: E402
from ca2sis.requests import RenderRequest, ShapeSource, StyleSource  # noqa: E402

SAMPLES = ROOT / "resources" / "samples"
HAIR = 13


def pairs_from(args: argparse.Namespace) -> list[tuple[Path, Path]]:
    if args.data is None:
        return [(SAMPLES / f"{n}.png", SAMPLES / f"{n}_mask.png") for n in ("astronaut", "generated-1", "generated-2")]
    names = args.faces or sorted(p.stem for p in (args.data / "images").glob("*.jpg"))
    names = names if args.faces else names[args.skip : args.skip + args.rows]
    return [(args.data / "images" / f"{n}.jpg", args.data / "masks" / f"{n}.png") for n in names]


def figure_rows(editor: Editor, pairs: list[tuple[Path, Path]], steps: int | None) -> list[list[np.ndarray]]:
    keys = [editor.add_face(load_image(img), load_mask(mask, editor.classes)) for img, mask in pairs]
    rows = []
    for i, key in enumerate(keys):
        ref = keys[(i + 1) % len(keys)]
        photo, mask = editor._face(key)
        layout = editor.add_mask(mask)
        unfitted = editor.render(RenderRequest.build(layout, key)).image
        fit = editor.fit(key, default_config(steps=steps))
        print(f"{pairs[i][0].name}: PSNR {fit.psnr_before:.2f} → {fit.psnr_after:.2f} dB in {fit.seconds:.0f} s")
        edits = [{}, {"styles": {HAIR: StyleSource("reference", ref)}}, {"shapes": {HAIR: ShapeSource(ref, 1.0)}}]
        fitted, styled, morphed = (editor.render(RenderRequest.build(layout, key, fit=fit.key, **e)).image
                                   for e in edits)
        reference = small(editor._face(ref)[0], editor.resolution)
        rows.append([photo, _label(unfitted, photo), _label(fitted, photo), styled, morphed, reference])
    return rows


def _label(tile: np.ndarray, photo: np.ndarray) -> np.ndarray:
    from PIL import ImageDraw

    im = Image.fromarray(tile)
    draw = ImageDraw.Draw(im)
    text = f"{image_psnr(tile, photo):.1f} dB"
    draw.rectangle((0, tile.shape[0] - 12, 6 * len(text) + 4, tile.shape[0]), fill=(0, 0, 0))
    draw.text((2, tile.shape[0] - 12), text, fill=(255, 255, 255))
    return np.asarray(im)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, help="held-out images/ + masks/ folder (default: the bundled samples)")
    p.add_argument("--faces", nargs="*", help="file stems to use from --data")
    p.add_argument("--skip", type=int, default=800, help="with --data: skip this many pairs (the trained ones)")
    p.add_argument("--rows", type=int, default=3)
    p.add_argument("--weights", type=Path, default=ROOT / "models" / "demo-128.safetensors")
    p.add_argument("--steps", type=int, default=None, help="fit steps (default: the editor's default fit)")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "fit.png")
    args = p.parse_args(argv)
    pairs = pairs_from(args)
    if not pairs:
        p.error(f"no faces in {args.data}: expected images/*.jpg with masks/*.png beside them, "
                f"more than --skip {args.skip} of them")
    editor = Editor.load(args.weights, device="cpu")
    rows = figure_rows(editor, pairs, args.steps)
    titles = ["photo", "unfitted", "fitted", "fitted + hair style", "fitted + hair shape", "reference"]
    save_atomic(compose(rows, titles), args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
