"""Draw the demo grid: held-out real | reconstruction | one class's style swapped | one class's shape
interpolated | the reference face both edits borrow from [| random styles from the mapping network].

    python docs/demo/make_grid.py --data HELD_OUT_FOLDER [--weights models/demo-128.safetensors]
        [--rows 4] [--style-class hair] [--shape-class hair] [--alpha 0.5] [--random 2]
        [--out docs/demo/grid.png]

HELD_OUT_FOLDER holds ``images/`` + ``labels/`` (or ``masks/``) pairs the model never trained on. Each
row pairs held-out face i with face i + rows as the reference. Everything goes through
:class:`ca2sis.editor.Editor`, as the app does.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from ca2sis.atomic import atomic_write  # noqa: E402
from ca2sis.classes import CELEBAMASK_HQ  # noqa: E402
from ca2sis.editor import Editor  # noqa: E402
from ca2sis.photo import load_image, load_mask  # noqa: E402

HEADER = 18  # pixels of column titles


def held_out_pairs(folder: Path) -> list[tuple[Path, Path]]:
    images = folder / "images"
    labels = next((folder / n for n in ("labels", "masks") if (folder / n).is_dir()), None)
    if not images.is_dir() or labels is None:
        raise SystemExit(f"{folder}: expected images/ and labels/ (or masks/) folders")
    pairs = [(p, labels / f"{p.stem}.png") for p in sorted(images.iterdir()) if (labels / f"{p.stem}.png").is_file()]
    if not pairs:
        raise SystemExit(f"{folder}: no image/mask pairs")
    return pairs


def small(rgb: np.ndarray, size: int) -> np.ndarray:
    return np.asarray(Image.fromarray(rgb).resize((size, size), Image.Resampling.LANCZOS))


def grid_rows(editor: Editor, pairs: list[tuple[Path, Path]], rows: int, style_cls: int, shape_cls: int,
              alpha: float, random: int = 0) -> list[list[np.ndarray]]:
    """One row per held-out face; ``random`` extra columns draw every class's style from the mapping
    network (seed = row × 100 + column), on the held-out layout."""
    size = editor.resolution
    out = []
    for i in range(rows):
        (img_a, mask_a), (img_b, mask_b) = pairs[i], pairs[(i + rows) % len(pairs)]
        a, ma = load_image(img_a), load_mask(mask_a, editor.classes)
        b, mb = load_image(img_b), load_mask(mask_b, editor.classes)
        styles_a, styles_b = editor.encode_style(a, ma), editor.encode_style(b, mb)
        shapes_a, shapes_b = editor.embed_mask(ma), editor.embed_mask(mb)
        recon = editor.generate(shapes_a, styles_a)
        swapped = editor.generate(shapes_a, editor.swap_style(styles_a, styles_b, [style_cls]))
        morphed = editor.generate(editor.interpolate_shape(shapes_a, shapes_b, shape_cls, alpha), styles_a)
        row = [small(a, size), recon, swapped, morphed, small(b, size)]
        row += [editor.generate(shapes_a, editor.random_styles(i * 100 + k, ma)) for k in range(random)]
        out.append(row)
    return out


def compose(rows: list[list[np.ndarray]], titles: list[str]) -> Image.Image:
    size = rows[0][0].shape[0]
    gap = 2
    w = len(titles) * (size + gap) - gap
    h = HEADER + len(rows) * (size + gap) - gap
    canvas = Image.new("RGB", (w, h), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    for c, title in enumerate(titles):
        draw.text((c * (size + gap) + 3, 3), title, fill=(0, 0, 0))
    for r, row in enumerate(rows):
        for c, tile in enumerate(row):
            canvas.paste(Image.fromarray(tile), (c * (size + gap), HEADER + r * (size + gap)))
    return canvas


def save_atomic(image: Image.Image, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda tmp: image.save(tmp, format="PNG"))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, required=True, help="held-out images/ + labels/ folder")
    p.add_argument("--weights", type=Path, default=ROOT / "models" / "demo-128.safetensors")
    p.add_argument("--rows", type=int, default=4)
    p.add_argument("--style-class", default="hair")
    p.add_argument("--shape-class", default="hair")
    p.add_argument("--alpha", type=float, default=0.5, help="shape interpolation weight of the reference")
    p.add_argument("--random", type=int, default=2, metavar="N",
                   help="columns of random styles (only when the model's mapping network is trained)")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "demo" / "grid.png")
    args = p.parse_args(argv)
    editor = Editor.load(args.weights, device="cpu")
    random = args.random if editor.has_mapping else 0
    style_cls, shape_cls = CELEBAMASK_HQ.by_name(args.style_class).id, CELEBAMASK_HQ.by_name(args.shape_class).id
    rows = grid_rows(editor, held_out_pairs(args.data), args.rows, style_cls, shape_cls, args.alpha, random)
    titles = ["held-out real", "reconstruction", f"{args.style_class} style swap",
              f"{args.shape_class} shape a={args.alpha:g}", "reference"] + ["random styles"] * random
    save_atomic(compose(rows, titles), args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
