"""Face-parsing benchmark: quality and speed of every available parser on held-out pairs.

    python bench/parsing.py [--data ../shared/data/celebamask-mini] [--limit N] [--candidate FILE]
                            [--backgrounds] [--json OUT.json]

The held-out pairs are the ones ``main.py train parser`` keeps out of training (the same fixed,
name-hashed split). For each back end: mIoU, pixel accuracy and per-class IoU of its cleaned output
against the true masks at 512², and seconds per face (parse + clean-up, one CPU thread unless
--threads), and the mIoU against the truth renamed to one left/right convention (about 7% of
CelebAMask-HQ's masks name every left part right; ``ca2sis.parsing.sides``), which tells how much of
the error is that naming. ``--detection N`` also places N held-out faces into larger rotated photos and measures
the offline detector: how many are found and how far its landmarks land from the truth.

``--backgrounds`` puts the same held-out faces (same framing, same masks) in front of other
backgrounds, one per family: procedural textures of the kinds training composites onto (noise,
streaks, stripes, foliage; new draws), a kind training never shows (bricks), and background regions
of the *other held-out* photos. It reports, per family, the share of truly-background pixels that a
parser labels as any face class (skin, hair, hat, cloth...) and the mIoU; also on the original
photos, for reference. Each bundled-parser file (installed and ``--candidate``) is scored there.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import repo_path  # noqa: E402
from ca2sis.classes import CELEBAMASK_HQ  # noqa: E402
from ca2sis.metrics.segmentation import ConfusionMatrix  # noqa: E402
from ca2sis.parsing import available_backends, load_parser  # noqa: E402
from ca2sis.parsing.backgrounds import SCENE_FAMILIES, background_scenes  # noqa: E402
from ca2sis.parsing.dataset import PairCache, list_pairs, split_names  # noqa: E402
from ca2sis.parsing.sides import follows_other_convention, standard_sides  # noqa: E402
from ca2sis.photo import load_image, load_mask  # noqa: E402

DEFAULT_DATA = ROOT / ".." / "shared" / "data" / "celebamask-mini"


def machine() -> dict:
    import torch

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(), "torch": torch.__version__, "system": platform.platform()}


def _make_parser(name: str, weights: Path | None = None):
    if weights is None:
        return load_parser(name, cache=False)
    from ca2sis.parsing.backends import BundledParser

    return BundledParser(weights)


def bench_parser(name: str, pairs, raw: bool = False, flip: bool | None = None, weights: Path | None = None) -> dict:
    """``weights``: score this bundled-parser file instead of the installed one (labelled by its name)."""
    parser = _make_parser(name, weights)
    if weights is not None:
        name = f"bundled:{weights.stem}"
    if raw:
        parser.clean = False
    if flip is not None:  # else the file's own default
        parser.flip_tta = flip
    cm = ConfusionMatrix(len(CELEBAMASK_HQ))
    cm_sides = ConfusionMatrix(len(CELEBAMASK_HQ))  # the truth renamed to one left/right convention
    parser.parse(load_image(pairs[0][1]))  # warm-up (first-call allocations)
    seconds = []
    bundled = name.startswith("bundled")
    forced = {None: "", True: " (flip)", False: " (no flip)"}[flip] if bundled else ""
    label = name + (" (raw)" if raw else "") + forced
    for _, img_path, mask_path in tqdm(pairs, desc=label, unit="face", leave=False):
        rgb, truth = load_image(img_path), load_mask(mask_path)
        t0 = time.perf_counter()
        pred = parser.parse(rgb)
        seconds.append(time.perf_counter() - t0)
        cm.add(truth, pred)
        cm_sides.add(standard_sides(truth), pred)
    iou = cm.iou()
    return {
        "backend": label, "cleaned": not raw, "flip_averaged": bool(getattr(parser, "flip_tta", False)),
        "weights": repo_path(weights or getattr(parser, "path", "")), "parameters": _parameters(parser),
        "faces": len(pairs), "miou": cm.miou(),
        "pixel_accuracy": cm.pixel_accuracy(), "seconds_per_face": float(np.median(seconds)),
        "miou_standard_sides": cm_sides.miou(),
        "iou": {n: (None if np.isnan(v) else round(float(v), 4))
                for n, v in zip(CELEBAMASK_HQ.names, iou, strict=True)},
    }


def bench_backgrounds(held: PairCache, weights: Path | None = None) -> dict:
    """Background taken for face, and mIoU, of one bundled-parser file on :func:`background_scenes`."""
    parser = _make_parser("bundled", weights)
    n = len(CELEBAMASK_HQ)
    cms = {family: ConfusionMatrix(n) for family in ("original", *SCENE_FAMILIES)}
    for rgb, truth in zip(held.images, held.masks, strict=True):
        cms["original"].add(truth, parser.parse(rgb))
    scenes = background_scenes(held.images, held.masks)
    total = len(held) * len(SCENE_FAMILIES)
    for family, _, rgb, truth in tqdm(scenes, total=total, desc=f"backgrounds {parser.path.stem}", unit="scene",
                                      leave=False):
        cms[family].add(truth, parser.parse(rgb))
    textured = ConfusionMatrix(n)
    for family in SCENE_FAMILIES:
        textured.counts += cms[family].counts
    per = {family: {"background_as_face": cm.background_taken_for_foreground(), "miou": cm.miou()}
           for family, cm in cms.items()}
    row = textured.counts[0] / max(1, textured.counts[0].sum())
    taken_as = {CELEBAMASK_HQ.names[c]: round(float(row[c]), 4) for c in np.argsort(-row) if c and row[c] >= 1e-3}
    return {"weights": repo_path(parser.path), "faces": len(held), "families": per,
            "background_as_face": textured.background_taken_for_foreground(), "miou": textured.miou(),
            "background_taken_as": taken_as}


def _parameters(parser) -> int | None:
    net = getattr(parser, "net", None)
    return sum(p.numel() for p in net.parameters()) if net is not None else None


def bench_detection(pairs, count: int, seed: int = 0, weights: Path | None = None) -> dict:
    """Offline (parser-based) detection on held-out faces placed into bigger, rotated photos."""
    import cv2

    from ca2sis.parsing.localize import landmarks_from_mask, localize_faces
    from ca2sis.photo.align import face_transform

    parser = _make_parser("bundled", weights)
    rng = np.random.default_rng(seed)
    found, errors, seconds = 0, [], []
    for _, img_path, mask_path in tqdm(pairs[:count], desc="detection", unit="photo", leave=False):
        rgb, truth_mask = load_image(img_path), load_mask(mask_path)
        truth = landmarks_from_mask(truth_mask)
        if truth is None:
            continue
        w, h = int(rng.integers(700, 1400)), int(rng.integers(600, 1100))
        scale = rng.uniform(0.35, 1.0)
        m = cv2.getRotationMatrix2D((256, 256), rng.uniform(-25, 25), scale)
        m[:, 2] += [rng.uniform(256 * scale, w - 256 * scale) - 256, rng.uniform(256 * scale, h - 256 * scale) - 256]
        bg = tuple(int(v) for v in rng.integers(0, 256, 3))
        photo = cv2.warpAffine(rgb, m, (w, h), borderMode=cv2.BORDER_CONSTANT, borderValue=bg)
        true_pts = truth.astype(np.float64) @ m[:, :2].T + m[:, 2]
        t0 = time.perf_counter()
        faces = localize_faces(photo, parser)  # what detect_faces(photo, "parsing") runs
        seconds.append(time.perf_counter() - t0)
        if not faces:
            continue
        best = min(faces, key=lambda f: np.linalg.norm(f.landmarks - true_pts, axis=1).mean())
        # Error in the aligned 512² frame, where it matters for the model.
        t = face_transform(best, (w, h), 512)
        err = np.linalg.norm(t.to_aligned(best.landmarks) - t.to_aligned(true_pts), axis=1).mean()
        if err < 40:
            found += 1
            errors.append(float(err))
    n = min(count, len(pairs))
    return {"weights": repo_path(parser.path), "photos": n, "found": found,
            "landmark_error_px_at_512": float(np.median(errors)) if errors else None,
            "seconds_per_photo": float(np.median(seconds)) if seconds else None}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--num-val", type=int, default=120, help="size of the held-out split (as in training)")
    p.add_argument("--limit", type=int, default=0, help="use only the first N held-out pairs")
    p.add_argument("--backends", default="", help="comma-separated (default: every ready one)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--raw", action="store_true", help="also score the bundled parser without clean-up")
    p.add_argument("--no-flip", action="store_true", help="also score the bundled parser without mirror averaging")
    p.add_argument("--flip", action="store_true", help="also score the bundled parser with mirror averaging forced on")
    p.add_argument("--detection", type=int, default=0, metavar="N", help="also test offline detection on N photos")
    p.add_argument("--candidate", type=Path, action="append", default=[], metavar="FILE",
                   help="also score this bundled-parser weights file (repeatable), e.g. a new training run's "
                        "best.safetensors, against the installed one in the same run")
    p.add_argument("--backgrounds", action="store_true",
                   help="also put the held-out faces in front of textures and other photos' backgrounds and "
                        "measure how much background the bundled parser(s) take for face")
    p.add_argument("--json", type=Path, help="write the results here")
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    if not (args.data / "images").is_dir():
        print(f"no data at {args.data.resolve()}", file=sys.stderr)
        return 2
    pairs = list_pairs(args.data)
    by_name = {n: (n, i, m) for n, i, m in pairs}
    _, val = split_names(list(by_name), args.num_val)
    held_all = [by_name[n] for n in val]
    held = held_all[: args.limit or None]
    status = available_backends()
    names = [b for b in (args.backends.split(",") if args.backends else status) if b]
    results = []
    for name in names:
        if status.get(name) != "ready":
            print(f"skipping {name}: {status.get(name, 'unknown back end')}")
            continue
        results.append(bench_parser(name, held))
        if args.raw and name == "bundled":
            results.append(bench_parser(name, held, raw=True))
        if args.no_flip and name == "bundled":
            results.append(bench_parser(name, held, flip=False))
        if args.flip and name == "bundled":
            results.append(bench_parser(name, held, flip=True))
    for weights in args.candidate:
        results.append(bench_parser("bundled", held, weights=weights))
        if args.raw:
            results.append(bench_parser("bundled", held, raw=True, weights=weights))
        if args.no_flip:
            results.append(bench_parser("bundled", held, flip=False, weights=weights))
        if args.flip:
            results.append(bench_parser("bundled", held, flip=True, weights=weights))
    other_sides = sum(follows_other_convention(load_mask(m)) for _, _, m in held)
    report = {"machine": machine(), "held_out_pairs": len(held), "truth_other_side_convention": other_sides,
              "results": results}
    if args.backgrounds:
        cache = PairCache(held, None, "decoding held-out pairs")
        report["backgrounds"] = [bench_backgrounds(cache, w) for w in ([None] if "bundled" in names else [])
                                 + args.candidate]
    if args.detection:
        report["detection"] = bench_detection(held_all, args.detection)
        report["detection_candidates"] = [bench_detection(held_all, args.detection, weights=w)
                                          for w in args.candidate]
    print(f"\n{len(held)} held-out pairs · {report['machine']['cpu']} · {report['machine']['torch_threads']} thread(s)")
    print(f"{'backend':<34} {'mIoU':>6} {'pix acc':>8} {'ms/face':>8} {'time ×':>7} {'mIoU, one side naming':>22}")
    for r in results:
        ratio = r["seconds_per_face"] / results[0]["seconds_per_face"]  # against the first row, same run
        print(f"{r['backend']:<34} {r['miou']:6.3f} {r['pixel_accuracy']:8.3f} "
              f"{r['seconds_per_face'] * 1000:8.1f} {ratio:7.2f} {r['miou_standard_sides']:22.3f}")
    print(f"({other_sides} of the {len(held)} true masks name left and right the other way round; the last "
          "column renames them first, see ca2sis/parsing/sides.py)")
    if results:
        print("\nper-class IoU")
        print(f"{'class':<12}" + "".join(f"{r['backend'].replace('bundled', 'b')[:11]:>12}" for r in results))
        for cls in CELEBAMASK_HQ.names:
            cells = "".join(f"{'n/a' if r['iou'][cls] is None else format(r['iou'][cls], '.3f'):>12}" for r in results)
            print(f"{cls:<12}{cells}")
    if args.backgrounds:
        print("\nbackground pixels labelled as a face class (share of all true background) · mIoU")
        print(f"{'weights':<34}" + "".join(f"{f:>15}" for f in ("original", *SCENE_FAMILIES, "all textured")))
        for r in report["backgrounds"]:
            cells = [r["families"][f] for f in ("original", *SCENE_FAMILIES)]
            cells.append({"background_as_face": r["background_as_face"], "miou": r["miou"]})
            print(f"{Path(r['weights']).stem[:33]:<34}"
                  + "".join(f"{c['background_as_face']:>8.1%} {c['miou']:.3f}" for c in cells))
            print(f"{'':<34}textured background taken as: "
                  + ", ".join(f"{k} {v:.1%}" for k, v in r["background_taken_as"].items()))
    if args.detection:
        for det in [report["detection"], *report["detection_candidates"]]:
            print(f"\noffline detection: {json.dumps(det)}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
