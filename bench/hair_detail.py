"""Hair detail: how much fine, strand-like texture a generator draws inside the hair, against the photo.

    python bench/hair_detail.py --data SPLIT/test --weights models/demo-128.safetensors OLD.safetensors \
        --json docs/bench/hair-detail.json

Each held-out pair whose hair covers at least 2 % of the image is reconstructed by every model from its
own mask and styles, as the editor does (``ca2sis.editor.Editor``), and the real photo is brought to
the same size. Inside the hair, eroded by 2 px so that the outline against skin and background does
not count, two figures are measured on the luminance (grey levels, 0–255):

* **detail**: the mean absolute Laplacian, i.e. all fine texture, strands and noise alike;
* **strand energy**: the mean square root of the structure tensor's eigenvalue difference (Gaussian
  window σ 1.5 px), i.e. gradient energy that has one direction at each place, as strands have, and
  that noise, which points every way, has little of.

Each is also given as a ratio to the real photos' (1 = as much as the photos). A pixel-accurate
reconstruction of a strand is not asked: the styles do not hold where each strand lies.
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import cpu_isa, repo_path, write_report  # noqa: E402
from ca2sis.classes import CELEBAMASK_HQ  # noqa: E402
from ca2sis.data.pairs import find_pairs  # noqa: E402

MIN_HAIR = 0.02  # share of the image
ERODE_PX = 2
TENSOR_SIGMA = 1.5


def luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def _conv(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Correlation with the image's edge pixels repeated outside it."""
    return ndimage.correlate(image, kernel, mode="nearest")


def _gaussian(sigma: float) -> np.ndarray:
    r = int(np.ceil(3 * sigma))
    g = np.exp(-(np.arange(-r, r + 1) ** 2) / (2 * sigma**2))
    g = np.outer(g, g)
    return g / g.sum()


LAPLACIAN = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=np.float64)
SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float64) / 8


def erode(region: np.ndarray, px: int) -> np.ndarray:
    """Binary erosion by a (2 px + 1)² square, edges of the image counting as outside."""
    return ndimage.binary_erosion(region, np.ones((2 * px + 1, 2 * px + 1), bool), border_value=0)


def hair_figures(rgb: np.ndarray, region: np.ndarray) -> tuple[float, float]:
    """(detail, strand energy) of ``rgb`` inside ``region``."""
    y = luminance(rgb)
    detail = np.abs(_conv(y, LAPLACIAN))[region].mean()
    gx, gy = _conv(y, SOBEL_X), _conv(y, SOBEL_X.T)
    g = _gaussian(TENSOR_SIGMA)
    jxx, jyy, jxy = _conv(gx * gx, g), _conv(gy * gy, g), _conv(gx * gy, g)
    oriented = np.sqrt((jxx - jyy) ** 2 + 4 * jxy**2)  # λ1 − λ2
    return float(detail), float(np.sqrt(oriented)[region].mean())


def held_out_pairs(folder: Path) -> list[tuple[Path, Path]]:
    """A held-out folder's pairs: ``images/`` with ``labels/`` (a split's layout) or ``masks/``."""
    labels = next((folder / n for n in ("labels", "masks") if (folder / n).is_dir()), folder / "labels")
    return [(p.image, p.label) for p in find_pairs(folder / "images", labels)]


def measure(weights: list[Path], pairs: list[tuple[Path, Path]], limit: int | None = None,
            labels: list[str] | None = None) -> dict:
    from PIL import Image

    from ca2sis.editor import Editor
    from ca2sis.photo import load_image, load_mask

    hair = CELEBAMASK_HQ.by_name("hair").id
    editors = [Editor.load(w, device="cpu") for w in weights]
    size = editors[0].resolution
    if any(e.resolution != size for e in editors):
        raise SystemExit("the models draw at different sizes; compare models of one resolution")
    figures: dict[str, list[tuple[float, float]]] = {"real": [], **{str(w): [] for w in weights}}
    faces = 0
    for img_path, mask_path in pairs:
        if limit is not None and faces >= limit:
            break
        rgb, mask = load_image(img_path), load_mask(mask_path, editors[0].classes)
        small_mask = np.asarray(Image.fromarray(mask).resize((size, size), Image.Resampling.NEAREST))
        region = erode(small_mask == hair, ERODE_PX)
        if (small_mask == hair).mean() < MIN_HAIR or not region.any():
            continue
        faces += 1
        real = np.asarray(Image.fromarray(rgb).resize((size, size), Image.Resampling.LANCZOS))
        figures["real"].append(hair_figures(real, region))
        for w, editor in zip(weights, editors, strict=True):
            fake = editor.generate(editor.embed_mask(mask), editor.encode_style(rgb, mask))
            figures[str(w)].append(hair_figures(fake, region))
    if not faces:
        raise SystemExit("no held-out face has enough hair to measure")
    names = {"real": "real photos", **{str(w): label for w, label in zip(weights, labels or [], strict=False)}}
    real = np.array(figures["real"]).mean(0)
    rows = {}
    for name, values in figures.items():
        mean = np.array(values).mean(0)
        rows[names.get(name) or repo_path(Path(name))] = {
            "detail": round(float(mean[0]), 3), "strand_energy": round(float(mean[1]), 3),
            "detail_vs_real": round(float(mean[0] / real[0]), 3),
            "strand_energy_vs_real": round(float(mean[1] / real[1]), 3),
        }
    return {"faces": faces, "resolution": size, "models": rows}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, required=True, help="held-out folder: images/ + labels/ (or masks/)")
    p.add_argument("--weights", type=Path, nargs="+", default=[ROOT / "models" / "demo-128.safetensors"])
    p.add_argument("--labels", nargs="+", help="a name for each model in the report (default: its path)")
    p.add_argument("--limit", type=int, help="at most this many faces")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    report = measure(args.weights, held_out_pairs(args.data), args.limit, args.labels)
    report["machine"] = {"cpu": platform.processor() or platform.machine(), "isa": cpu_isa(),
                         "threads": args.threads, "torch": torch.__version__}
    print(f"{report['faces']} faces with hair, at {report['resolution']}²")
    print(f"{'':48} {'detail':>8} {'× real':>7} {'strands':>8} {'× real':>7}")
    for name, r in report["models"].items():
        print(f"{name[-48:]:48} {r['detail']:8.2f} {r['detail_vs_real']:7.2f} {r['strand_energy']:8.2f} "
              f"{r['strand_energy_vs_real']:7.2f}")
    write_report(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
