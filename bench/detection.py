"""Face detection on generated multi-face photos: recall, false faces, landmark error and time.

    python bench/detection.py [--data ../shared/data/celebamask-mini] [--photos 48] [--empty 24]
                              [--detectors mobilenet,parsing] [--json OUT.json]

Photos: 1–4 held-out faces each (see ``photo_scenes.py``), at 0.2–1× of the data's framing, rotated
up to ±30°, a quarter of them cut by the photo's edge, on procedural textures (half the photos) or
on mosaics of other photos' backgrounds (the other half; person removed), stored as JPEG. Plus face-free
backgrounds of both kinds. The truth is the placement: each face's eye centres measured on its true
mask (the template's where the mask lacks them), mapped through the transform that placed it.

A detection matches a face when its eye midpoint lies within half the true inter-ocular distance of
the true one (closest first, one detection per face). Reported per detector, all in one run: face
recall (cut faces apart), unmatched detections in the face photos, false faces on the face-free
backgrounds, the median eye error as a share of the inter-ocular distance (faces with both eyes in
the photo), and seconds per photo (photos with faces, and face-free ones apart). ``mobilenet`` is
the default (bundled) detector, ``parsing`` the parser-based one it replaced, ``resnet50`` the
downloadable RetinaFace when installed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from photo_scenes import (  # noqa: E402
    BACKGROUND_SOURCES,
    arguments,
    backgrounds_from,
    held_out,
    instruction_set,
    read_face,
    ready,
)

from ca2sis.atomic import atomic_write_json  # noqa: E402
from ca2sis.data.scenes import Scene, jpeg, make_scene, photo_background, procedural_texture, scatter  # noqa: E402


def build_photos(data: Path, photos: int, empty: int, seed: int) -> tuple[list[Scene], list[Scene]]:
    rng = np.random.default_rng(seed)
    held, others = held_out(data)
    sources = backgrounds_from(others[:BACKGROUND_SOURCES])
    faces = [read_face(p) for p in held]
    scenes, blanks = [], []
    next_face = 0
    for i in tqdm(range(photos + empty), desc="building photos", unit="photo", leave=False):
        size = (int(rng.integers(900, 1601)), int(rng.integers(700, 1201)))
        photographic = i % 2 == 1
        bg = photo_background(rng, size, sources) if photographic else procedural_texture(rng, size)
        kind = "photographic" if photographic else "textured"
        if i >= photos:
            blanks.append(Scene(jpeg(rng, bg), [], kind))
            continue
        spots = scatter(rng, size, int(rng.integers(1, 5)), cut_chance=0.25)
        chosen = [faces[(next_face + k) % len(faces)] for k in range(len(spots))]
        next_face += len(spots)
        scene = make_scene(bg, chosen, spots)
        scene.photo, scene.background = jpeg(rng, scene.photo), kind
        scenes.append(scene)
    return scenes, blanks


def match(scene: Scene, found: list) -> tuple[list[tuple[int, int]], int]:
    """(face index, detection index) pairs, and how many detections matched no face."""
    candidates = []
    for fi, face in enumerate(scene.faces):
        truth_mid = face.landmarks[:2].mean(0)
        for di, det in enumerate(found):
            d = float(np.linalg.norm(det.landmarks[:2].mean(0) - truth_mid))
            if d < 0.5 * face.inter_ocular:
                candidates.append((d, fi, di))
    pairs, used_f, used_d = [], set(), set()
    for _, fi, di in sorted(candidates):
        if fi not in used_f and di not in used_d:
            pairs.append((fi, di))
            used_f.add(fi)
            used_d.add(di)
    return pairs, len(found) - len(pairs)


def eyes_inside(scene: Scene, fi: int) -> bool:
    h, w = scene.photo.shape[:2]
    eyes = scene.faces[fi].landmarks[:2]
    return bool((eyes >= 0).all() and (eyes[:, 0] < w).all() and (eyes[:, 1] < h).all())


def bench_detector(name: str, scenes: list[Scene], blanks: list[Scene]) -> dict:
    from ca2sis.photo.align import detect_faces

    detect_faces(scenes[0].photo, name)  # load the network before timing
    total = cut_total = hits = cut_hits = extra = false_faces = 0
    errors, seconds, empty_seconds = [], [], []
    for scene in tqdm(scenes + blanks, desc=name, unit="photo", leave=False):
        t0 = time.perf_counter()
        found = detect_faces(scene.photo, name)
        (seconds if scene.faces else empty_seconds).append(time.perf_counter() - t0)
        if not scene.faces:
            false_faces += len(found)
            continue
        pairs, unmatched = match(scene, found)
        extra += unmatched
        total += len(scene.faces)
        hits += len(pairs)
        cut_total += sum(f.cut for f in scene.faces)
        cut_hits += sum(scene.faces[fi].cut for fi, _ in pairs)
        for fi, di in pairs:
            if eyes_inside(scene, fi):
                truth = scene.faces[fi]
                err = np.linalg.norm(found[di].landmarks[:2] - truth.landmarks[:2], axis=1).mean()
                errors.append(float(err / truth.inter_ocular))
    return {
        "detector": name, "faces": total, "found": hits, "recall": hits / max(total, 1),
        "cut_faces": cut_total, "cut_found": cut_hits, "unmatched_detections": extra,
        "face_free_photos": len(blanks), "false_faces_on_face_free": false_faces,
        "median_eye_error_iod": float(np.median(errors)) if errors else None,
        "p90_eye_error_iod": float(np.percentile(errors, 90)) if errors else None,
        # Photos with faces and face-free ones apart: finding nothing costs the small-face pass too.
        "seconds_per_photo_median": float(np.median(seconds)), "seconds_per_photo_mean": float(np.mean(seconds)),
        "seconds_per_face_free_photo_median": float(np.median(empty_seconds)) if empty_seconds else None,
    }


def main(argv: list[str] | None = None) -> int:
    p = arguments(__doc__.split("\n\n")[0])
    p.add_argument("--photos", type=int, default=48, help="photos with faces")
    p.add_argument("--empty", type=int, default=24, help="face-free backgrounds")
    p.add_argument("--detectors", default="mobilenet,parsing", help="comma-separated: mobilenet, resnet50, parsing")
    args = p.parse_args(argv)
    if not ready(args):
        return 2
    from parsing import machine

    scenes, blanks = build_photos(args.data, args.photos, args.empty, args.seed)
    results = [bench_detector(name, scenes, blanks) for name in args.detectors.split(",") if name]
    report = {"machine": {**machine(), "instruction_set": instruction_set()}, "photos": len(scenes),
              "faces": sum(len(s.faces) for s in scenes), "face_free": len(blanks), "seed": args.seed,
              "results": results}
    print(f"\n{len(scenes)} photos with {report['faces']} faces, {len(blanks)} face-free · "
          f"{report['machine']['cpu']} ({report['machine']['instruction_set']}) · {args.threads} thread(s)")
    print(f"{'detector':<10} {'recall':>7} {'cut':>7} {'extra':>6} {'false':>6} {'eye err':>8} {'s/photo':>8} {'×':>6} "
          f"{'s/empty':>8}")
    for r in results:
        print(f"{r['detector']:<10} {r['recall']:7.1%} {r['cut_found']:>3}/{r['cut_faces']:<3} "
              f"{r['unmatched_detections']:6d} {r['false_faces_on_face_free']:6d} "
              f"{(r['median_eye_error_iod'] or float('nan')):8.1%} {r['seconds_per_photo_median']:8.2f} "
              f"{r['seconds_per_photo_median'] / results[0]['seconds_per_photo_median']:6.2f} "
              f"{r['seconds_per_face_free_photo_median'] or float('nan'):8.2f}")
    if args.json:
        atomic_write_json(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
