"""Rebuild ``resources/samples/``: portraits that may be redistributed, each with its mask from the bundled parser.

    python docs/demo/make_samples.py --astronaut PATH/astronaut.png --styles HELD_OUT_FOLDER [--count 3]

* ``astronaut``: scikit-image's public-domain NASA portrait of Eileen Collins (pass the PNG from an
  installed scikit-image, ``skimage/data/astronaut.png``, or from its wheel), aligned to CelebA-HQ
  framing on the bundled detector's landmarks (checked against hand-placed ones) and parsed by the
  bundled parser.
* ``generated-<i>``: faces drawn by the bundled demo model on the astronaut's layout (mirrored for odd
  i) with the styles of held-out faces, upscaled to the 512² framing and parsed again.

Files are ``<name>.png`` + ``<name>_mask.png`` (the pair naming the app's Open dialogs recognise).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from ca2sis.classes import CELEBAMASK_HQ  # noqa: E402
from ca2sis.parsing import load_parser  # noqa: E402
from ca2sis.photo import load_image, load_mask, save_image, save_mask  # noqa: E402
from ca2sis.photo.align import FaceBox, align_face, detect_faces  # noqa: E402
from ca2sis.weights import load_editor  # noqa: E402

SAMPLES = ROOT / "resources" / "samples"
ALIGNED = 512
# Eyes, nose tip, mouth corners of the astronaut photo (image order), read off the 512² original.
ASTRONAUT_POINTS = np.array([[204, 102], [246, 103], [224, 127], [204, 142], [244, 142]], dtype=np.float32)


def mirrored(mask: np.ndarray) -> np.ndarray:
    """A left-right flip that also swaps left/right classes, so eyes stay labelled as seen."""
    return CELEBAMASK_HQ.flip_lut()[mask[:, ::-1]].astype(np.uint8)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--astronaut", type=Path, required=True, help="scikit-image's astronaut.png")
    p.add_argument("--styles", type=Path, required=True, help="held-out images/ + labels/ folder for styles")
    p.add_argument("--count", type=int, default=3, help="generated faces")
    p.add_argument("--out", type=Path, default=SAMPLES)
    args = p.parse_args(argv)

    parser = load_parser("bundled", "cpu")
    # Her face is about 95 px wide in the 512² photo: the bundled detector finds it, and its
    # landmarks are checked against points placed by hand (so the sample cannot drift unnoticed).
    photo = load_image(args.astronaut)
    found = detect_faces(photo)
    if found and np.abs(found[0].landmarks - ASTRONAUT_POINTS).max() <= 6:
        face, how = found[0], f"aligned on the bundled detector's landmarks (score {found[0].score:.3f})"
    else:
        face = FaceBox((150, 40, 300, 200), ASTRONAUT_POINTS, 1.0, "hand-placed")
        how = "aligned on hand-placed landmarks (the detector's disagreed)"
    aligned, _ = align_face(photo, face, ALIGNED)
    mask = parser.parse(aligned)
    save_image(args.out / "astronaut.png", aligned)
    save_mask(args.out / "astronaut_mask.png", mask)
    print(f"astronaut: {how}, classes {np.unique(mask).tolist()}")

    editor = load_editor("demo-128", device="cpu")
    images = sorted((args.styles / "images").iterdir())
    labels = args.styles / "labels" if (args.styles / "labels").is_dir() else args.styles / "masks"
    layouts = [mask, mirrored(mask)]
    for i in range(args.count):
        src = images[(i * 7) % len(images)]  # spread over the held-out set
        styles = editor.encode_style(load_image(src), load_mask(labels / f"{src.stem}.png", editor.classes))
        drawn = editor.generate(editor.embed_mask(layouts[i % 2]), styles)
        big = np.asarray(Image.fromarray(drawn).resize((ALIGNED, ALIGNED), Image.Resampling.LANCZOS))
        name = f"generated-{i + 1}"
        save_image(args.out / f"{name}.png", big)
        save_mask(args.out / f"{name}_mask.png", parser.parse(big))
        print(f"{name}: layout {'mirrored ' if i % 2 else ''}astronaut, styles of a held-out face")
    return 0


if __name__ == "__main__":
    sys.exit(main())
