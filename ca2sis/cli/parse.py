"""``python main.py parse PHOTO [PHOTO ...] -o OUT``: portrait photos → 19-class index masks.

One photo: OUT is the mask file. Several: OUT is a folder and each mask is named after its photo
(``OUT/<stem>.png``). Masks are palettised index PNGs at the photo's own resolution (pixels outside
the face's aligned crop are background). ``--aligned`` skips detection for CelebA-HQ-framed crops;
``--preview`` also writes ``<stem>_preview.png`` colour masks. Models load once per call.

``--faces-json FILE`` writes every face detected in every photo (box, score and the five landmarks
in photo pixels, left and right as seen in the image), written once at the end; without ``-o`` only
detection runs, so scripts can use it alone.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

log = logging.getLogger("ca2sis.parse")


def add_arguments(p: argparse.ArgumentParser) -> None:
    from ca2sis.photo.detection import DETECTORS

    p.add_argument("photos", nargs="+", type=Path, metavar="PHOTO")
    p.add_argument("-o", "--out", help="mask file (one photo) or folder (several)")
    p.add_argument("--faces-json", metavar="FILE", help="write every detected face here (JSON)")
    p.add_argument("--backend", default="auto", help="parser: auto (bundled), bundled, parsenet, bisenet")
    p.add_argument("--detector", default="auto", help=f"face detector: {', '.join(DETECTORS)} (parsing is a "
                   "slow last resort)")
    p.add_argument("--aligned", action="store_true", help="photos are CelebA-HQ-framed crops: no detection")
    p.add_argument("--preview", action="store_true", help="also write colour previews")
    p.add_argument("--face", type=int, default=None, help="which face when there are several (0 = largest)")
    p.add_argument("--whole-image", action="store_true", help="use the whole image when no face is found")
    p.add_argument("--device", default="cpu")


def _targets(photos: list[Path], out: str | Path) -> list[Path]:
    """Where each mask goes; every target is checked before any model loads (a wrong -o fails at once)."""
    from ca2sis.safe_files import FileRefused, check_output

    if not str(out):
        raise FileRefused("-o is empty: give a mask file (one photo) or a folder")
    out = Path(out)
    if len(photos) == 1 and out.suffix.lower() == ".png":
        return [_not_a_photo(check_output(out, "mask file", (".png",)), photos)]
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} is a file, but several photos (or a non-.png -o) need an output folder")
    stems = [p.stem for p in photos]
    dupes = {s for s in stems if stems.count(s) > 1}
    # Photos with the same name from different folders would overwrite each other: number them.
    targets = [out / (f"{p.stem}_{i}.png" if p.stem in dupes else f"{p.stem}.png") for i, p in enumerate(photos)]
    for target in targets[:1]:  # they share a folder: one probe tells for all
        check_output(target, "mask file", (".png",))
    for target in targets:
        _not_a_photo(target, photos)
    return targets


def _not_a_photo(target: Path, photos: list[Path]) -> Path:
    """A mask never replaces the photo it was made from (``parse photo.png -o .`` in the photo's folder)."""
    if any(os.path.realpath(target) == os.path.realpath(p) for p in photos):
        raise ValueError(f"{target} is one of the photos being parsed; choose another -o")
    return target


def _check(args: argparse.Namespace) -> str | None:
    if args.out is None and args.faces_json is None:
        return "give -o OUT for masks, --faces-json FILE for the detected faces, or both"
    if args.faces_json is not None and args.aligned:
        return "--faces-json reports detected faces, and --aligned skips detection"
    return None


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    from tqdm import tqdm

    from ca2sis.atomic import atomic_write_json
    from ca2sis.parsing import load_parser
    from ca2sis.photo import PhotoError, load_image, save_mask
    from ca2sis.photo.align import NoFaceError, detect_faces
    from ca2sis.photo.detection import resolve
    from ca2sis.photo.portrait import open_portrait
    from ca2sis.safe_files import check_output

    problem = _check(args)
    if problem:
        print(f"parse: {problem}", file=sys.stderr)
        return 2
    try:
        targets = _targets(args.photos, args.out) if args.out is not None else [None] * len(args.photos)
        if args.faces_json is not None:  # refused before any model loads, like -o
            check_output(args.faces_json, "faces file", (".json",))
        parser = load_parser(args.backend, args.device) if args.out is not None else None
        detector = resolve(args.detector) if not args.aligned else "none"
    except (FileNotFoundError, ValueError) as exc:
        print(f"parse: {exc}", file=sys.stderr)
        return 2
    records = []
    failed = 0
    for photo, target in tqdm(list(zip(args.photos, targets, strict=True)), desc="parsing", unit="photo",
                              disable=len(targets) < 3):
        record: dict = {"photo": str(photo)}
        try:
            if target is None:  # detection alone
                rgb = load_image(photo)
                faces = detect_faces(rgb, detector, args.device)
            else:
                portrait = open_portrait(photo, parser, face_index=args.face, aligned=args.aligned,
                                         whole_image_if_no_face=args.whole_image, detector=detector)
                rgb, faces = portrait.photo, portrait.faces
                mask = portrait.mask_in_photo()
                save_mask(target, mask)
                written = [target]
                if args.preview:
                    written.append(target.with_name(f"{target.stem}_preview.png"))
                    save_mask(written[-1], mask, colour=True)
                for w in portrait.warnings:
                    log.warning("%s: %s", photo.name, w)
                print(f"{photo} → {', '.join(str(p) for p in written)}")  # what was written, where
            record.update(width=int(rgb.shape[1]), height=int(rgb.shape[0]), faces=[f.to_dict() for f in faces])
        except (PhotoError, NoFaceError, ValueError, OSError) as exc:
            failed += 1
            log.error("%s", exc)
            record["error"] = str(exc)
            if isinstance(exc, NoFaceError):
                record["faces"] = []
        records.append(record)
    if args.faces_json is not None:
        atomic_write_json(args.faces_json, {"detector": detector, "landmark_order": "left and right as seen in "
                                            "the image", "photos": records})
        log.info("wrote %s (%d face(s))", args.faces_json, sum(len(r.get("faces", [])) for r in records))
    if failed:
        log.error("%d of %d photo(s) failed", failed, len(targets))
    elif args.out is not None and len(targets) > 1:
        print(f"{len(targets)} masks written to {args.out}")
    return 1 if failed else 0
