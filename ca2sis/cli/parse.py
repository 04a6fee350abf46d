"""``python main.py parse PHOTO [PHOTO ...] -o OUT``: portrait photos → 19-class index masks.

One photo: OUT is the mask file. Several: OUT is a folder and each mask is named after its photo
(``OUT/<stem>.png``). Masks are palettised index PNGs at the photo's own resolution (pixels outside
the face's aligned crop are background). ``--aligned`` skips detection for CelebA-HQ-framed crops;
``--preview`` also writes ``<stem>_preview.png`` colour masks. Models load once per call.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

log = logging.getLogger("ca2sis.parse")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("photos", nargs="+", type=Path, metavar="PHOTO")
    p.add_argument("-o", "--out", required=True, help="mask file (one photo) or folder (several)")
    p.add_argument("--backend", default="auto", help="parser: auto (bundled), bundled, parsenet, bisenet")
    p.add_argument("--detector", default="auto", help="face detector: auto, retinaface, parsing")
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


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    from tqdm import tqdm

    from ca2sis.align import NoFaceError
    from ca2sis.parsing import load_parser
    from ca2sis.photo import PhotoError, save_mask
    from ca2sis.portrait import open_portrait

    try:
        targets = _targets(args.photos, args.out)
        parser = load_parser(args.backend, args.device)
    except (FileNotFoundError, ValueError) as exc:
        print(f"parse: {exc}", file=sys.stderr)
        return 2
    failed = 0
    for photo, target in tqdm(list(zip(args.photos, targets, strict=True)), desc="parsing", unit="photo",
                              disable=len(targets) < 3):
        try:
            portrait = open_portrait(photo, parser, face_index=args.face, aligned=args.aligned,
                                     whole_image_if_no_face=args.whole_image, detector=args.detector)
            mask = portrait.mask_in_photo()
            save_mask(target, mask)
            written = [target]
            if args.preview:
                written.append(target.with_name(f"{target.stem}_preview.png"))
                save_mask(written[-1], mask, colour=True)
            for w in portrait.warnings:
                log.warning("%s: %s", photo.name, w)
            print(f"{photo} → {', '.join(str(p) for p in written)}")  # what was written, where
        except (PhotoError, NoFaceError, ValueError, OSError) as exc:
            failed += 1
            log.error("%s", exc)
    if failed:
        log.error("%d of %d photo(s) failed", failed, len(targets))
    elif len(targets) > 1:
        print(f"{len(targets)} masks written to {args.out}")
    return 1 if failed else 0
