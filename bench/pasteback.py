"""Paste-back of an edited face into its photo: what changes outside the face, and the crop's border.

    python bench/pasteback.py [--data ../shared/data/celebamask-mini] [--faces 20] [--json OUT.json]

Each held-out face (see ``photo_scenes.py``) is composited into a larger photo (0.45–1× of the data's
framing, rotated up to ±20°, on a texture or on other photos' backgrounds, stored as JPEG), then
goes the editor's way: detected, aligned and parsed by the bundled models, its hair given the style
of the next held-out face by the bundled demo generator (``ca2sis.Editor``), and pasted back. Two
pastes of the same render are compared, in one run:

* ``region``: :func:`ca2sis.photo.align.paste_edit`, what the editor and ``main.py render --photo`` do;
* ``square``: the whole generated square, feathered (the previous export).

Reported per paste: the mean absolute difference to the original photo (grey levels, RGB mean)
outside the edited classes' region dilated by 3 px of the 512² framing, inside the crop's square
(where a paste can act) and over the whole photo; the seam: the mean jump of (export − original)
across the crop's border, between 4 px inside and 4 px outside, along its four sides; and the same
difference outside the dilated hair alone (this one measures the generator, which re-renders the
whole face, not the paste).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from photo_scenes import BACKGROUND_SOURCES, arguments, backgrounds_from, held_out, instruction_set, ready  # noqa: E402

from ca2sis.atomic import atomic_write_json  # noqa: E402
from ca2sis.data.scenes import jpeg, make_scene, photo_background, placement, procedural_texture  # noqa: E402
from ca2sis.photo import load_image, load_mask  # noqa: E402
from ca2sis.photo.align import AlignTransform, paste_back, paste_edit, paste_region  # noqa: E402

HAIR = 13
MARGIN = 24  # aligned pixels shown around the crop when its border is examined


def build_photo(rng: np.random.Generator, face: tuple, backgrounds: list[np.ndarray], i: int) -> np.ndarray:
    size = (int(rng.integers(900, 1401)), int(rng.integers(800, 1101)))
    bg = photo_background(rng, size, backgrounds) if i % 2 else procedural_texture(rng, size)
    s = float(rng.uniform(0.45, 1.0))
    r = 256 * s * 1.05  # keep the whole 512² framing inside the photo
    centre = (float(rng.uniform(r, size[0] - r)), float(rng.uniform(r, size[1] - r)))
    scene = make_scene(bg, [face], [(placement(s, float(rng.uniform(-20, 20)), centre), False)])
    return jpeg(rng, scene.photo, (90, 96))


def in_photo(mask: np.ndarray, transform: AlignTransform, dilate_px: int) -> np.ndarray:
    """A 512² aligned mask, dilated by ``dilate_px`` aligned pixels, at the photo's resolution."""
    grown = cv2.dilate(mask.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilate_px + 1,) * 2))
    t = transform.for_size(mask.shape[0])
    w, h = transform.photo_size
    return cv2.warpAffine(grown, t.matrix, (w, h), flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP) > 0


def border_jump(export: np.ndarray, photo: np.ndarray, transform: AlignTransform, inside: int = 4,
                outside: int = 4) -> float:
    """Mean |Δ(export − original)| across the crop's border, from ``outside`` aligned px outside it to
    ``inside`` px inside, RGB mean: a straight seam along the crop's border shows here."""
    size = transform.size
    m = transform.matrix.copy()
    m[:, 2] += MARGIN  # the aligned frame with MARGIN px around it
    frame = (size + 2 * MARGIN,) * 2
    w, h = transform.photo_size
    inside_photo = cv2.warpAffine(np.ones((h, w), np.uint8), m, frame, flags=cv2.INTER_NEAREST) > 0
    d = [cv2.warpAffine(a.astype(np.float32), m, frame, flags=cv2.INTER_LINEAR) for a in (export, photo)]
    diff = (d[0] - d[1]).mean(2)
    a, b = MARGIN, MARGIN + size - 1  # first and last rows/columns of the crop
    pairs = [(np.s_[a + inside, a:b], np.s_[a - outside, a:b]), (np.s_[b - inside, a:b], np.s_[b + outside, a:b]),
             (np.s_[a:b, a + inside], np.s_[a:b, a - outside]), (np.s_[a:b, b - inside], np.s_[a:b, b + outside])]
    jumps = [np.abs(diff[i] - diff[o])[inside_photo[i] & inside_photo[o]] for i, o in pairs]
    jumps = np.concatenate(jumps)
    return float(jumps.mean()) if jumps.size else float("nan")


def mad(a: np.ndarray, b: np.ndarray, where: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32))[where].mean()) if where.any() else 0.0


def main(argv: list[str] | None = None) -> int:
    p = arguments(__doc__.split("\n\n")[0])
    p.add_argument("--faces", type=int, default=20)
    args = p.parse_args(argv)
    if not ready(args):
        return 2
    from ca2sis.photo.portrait import open_portrait
    from ca2sis.requests import RenderRequest, StyleSource
    from ca2sis.weights import load_editor

    rng = np.random.default_rng(args.seed)
    held, others = held_out(args.data)
    backgrounds = backgrounds_from(others[:BACKGROUND_SOURCES])
    editor = load_editor("demo-128", device="cpu", precision="fp32")
    rows = []
    for i in tqdm(range(args.faces), desc="faces", unit="face"):
        name, image_path, mask_path = held[i % len(held)]
        ref_name, ref_image, ref_mask = held[(i + 1) % len(held)]
        photo = build_photo(rng, (name, load_image(image_path), load_mask(mask_path), None), backgrounds, i)
        portrait = open_portrait(photo)
        own = editor.add_face(portrait.aligned, portrait.mask)
        ref = editor.add_face(load_image(ref_image), load_mask(ref_mask))
        request = RenderRequest.build(editor.add_mask(portrait.mask), own, {HAIR: StyleSource("reference", ref)})
        result = editor.render(request).image
        t0 = time.perf_counter()
        region_paste = paste_edit(photo, result, portrait.transform, portrait.mask, portrait.mask, restyled={HAIR})
        seconds = time.perf_counter() - t0
        square_paste = paste_back(photo, result, portrait.transform)
        region, _ = paste_region(portrait.mask, portrait.mask, restyled={HAIR})
        outside = ~in_photo(region, portrait.transform, 3)
        crop = in_photo(np.ones_like(region), portrait.transform, 0)
        not_hair = ~in_photo(portrait.mask == HAIR, portrait.transform, 3)
        row = {"face": name, "photo": [photo.shape[1], photo.shape[0]], "paste_seconds": seconds,
               "crop_side": float(portrait.face.crop_side)}
        for label, export in (("region", region_paste), ("square", square_paste)):
            row[label] = {
                "mad_outside_region_in_crop": mad(export, photo, outside & crop),
                "mad_outside_region_photo": mad(export, photo, outside),
                "border_jump": border_jump(export, photo, portrait.transform),
                "mad_outside_hair_in_crop": mad(export, photo, not_hair & crop),
            }
        rows.append(row)
    summary = {label: {k: float(np.mean([r[label][k] for r in rows])) for k in rows[0][label]}
               for label in ("region", "square")}
    from parsing import machine

    report = {"machine": {**machine(), "instruction_set": instruction_set()}, "faces": len(rows),
              "model": "demo-128", "edit": "hair style from the next held-out face", "mean": summary,
              "paste_seconds_median": float(np.median([r["paste_seconds"] for r in rows])), "rows": rows}
    print(f"\n{len(rows)} faces, hair style swapped by demo-128 · {report['machine']['cpu']} "
          f"({report['machine']['instruction_set']})")
    print(f"{'paste':<8} {'MAD out (crop)':>15} {'MAD out (photo)':>16} {'border jump':>12} {'MAD out of hair':>16}")
    for label, s in summary.items():
        print(f"{label:<8} {s['mad_outside_region_in_crop']:15.2f} {s['mad_outside_region_photo']:16.3f} "
              f"{s['border_jump']:12.2f} {s['mad_outside_hair_in_crop']:16.2f}")
    print(f"paste-back: {report['paste_seconds_median'] * 1000:.0f} ms per photo (median)")
    if args.json:
        atomic_write_json(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
