"""Build the template face mask the editor offers as a starting point: ``face_mask.png``.

    python resources/template/make_template.py [--data ../shared/data/celebamask-mini] [--size 512]

How it is made: every mask of the data set (CelebAMask-HQ's 19 classes, faces in CelebA-HQ framing,
so the parts of different people land in about the same place) votes for its class at every pixel;
each pixel takes the class most masks agree on (the per-pixel mode, i.e. a "mean face" for labels).
The left and right parts (eyes, brows, ears) are then made mirror images of each other, so the
template is symmetric, and small islands left over from the vote (fewer than ``--min-area`` pixels)
are merged into the class around them. Rare classes (glasses, hats, earrings, necklaces) never win a
pixel. No image of the data set is stored: the output is this one statistic over all its masks.
It inherits the data set's terms (CelebAMask-HQ: non-commercial research and education only).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from ca2sis.classes import CELEBAMASK_HQ  # noqa: E402
from ca2sis.photo import save_mask  # noqa: E402


def vote(mask_files: list[Path], size: int, num_classes: int) -> np.ndarray:
    """Per-class pixel counts, num_classes × size × size."""
    counts = np.zeros((num_classes, size * size), np.int32)
    pixels = np.arange(size * size)
    for path in mask_files:
        with Image.open(path) as im:
            mask = np.asarray(im.resize((size, size), Image.Resampling.NEAREST) if im.size != (size, size) else im)
        counts[mask.ravel().astype(np.int64), pixels] += 1
    return counts.reshape(num_classes, size, size)


def symmetric(counts: np.ndarray, flip_lut: np.ndarray) -> np.ndarray:
    """Add the votes of every mask's mirror image: a left eye at (y, x) is a right eye at (y, W-1-x)."""
    mirrored = np.empty_like(counts)
    mirrored[flip_lut] = counts[:, :, ::-1]
    return counts + mirrored


def merge_islands(labels: np.ndarray, min_area: int) -> np.ndarray:
    """Connected regions smaller than ``min_area`` take the most common class on their border."""
    out = labels.copy()
    for cls in np.unique(labels):
        parts, n = ndimage.label(labels == cls)
        for i in range(1, n + 1):
            region = parts == i
            if region.sum() >= min_area:
                continue
            border = ndimage.binary_dilation(region) & ~region
            if border.any():
                out[region] = np.bincount(out[border]).argmax()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "celebamask-mini",
                   help="a folder with masks/<name>.png (palettised, pixel = class id)")
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--min-area", type=int, default=40, help="islands smaller than this are merged (pixels)")
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "face_mask.png")
    args = p.parse_args(argv)
    files = sorted((args.data / "masks").glob("*.png"))
    if not files:
        print(f"no masks in {args.data / 'masks'}", file=sys.stderr)
        return 1
    classes = CELEBAMASK_HQ
    counts = symmetric(vote(files, args.size, len(classes)), classes.flip_lut())
    template = merge_islands(counts.argmax(0).astype(np.uint8), args.min_area)
    save_mask(args.out, template, classes=classes)
    present = ", ".join(f"{classes[c].name} {int((template == c).sum())}" for c in np.unique(template))
    print(f"wrote {args.out} from {len(files)} masks ({args.size}²): {present}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
