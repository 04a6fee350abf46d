"""Overfit a small preset on a few real CelebAMask-HQ pairs and record the reconstruction-L1 curve.

    python bench/overfit.py --json overfit.json                      # tiny preset, 8 pairs, 300 steps
    python bench/overfit.py --preset demo-128 --steps 600 --json overfit-128.json

Reads the pairs in place from ``../shared/data/celebamask-mini`` (or ``--data``) through symlinks in a
temporary folder, trains with the full recipe (hinge GAN, feature matching, perceptual, attention
loss, flips and crops) and measures the reconstruction L1 of the same pairs without augmentation at
every checkpoint. A falling curve shows that the losses, the optimiser and the data path work together.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED_MINI = ROOT / ".." / "shared" / "data" / "celebamask-mini"


def link_pairs(source: Path, target: Path, count: int) -> Path:
    """``target/{images,labels}`` with symlinks to the first ``count`` pairs of ``source/{images,masks}``."""
    images = sorted((source / "images").glob("*.jpg"))[:count]
    (target / "images").mkdir(parents=True)
    (target / "labels").mkdir()
    for img in images:
        mask = source / "masks" / (img.stem + ".png")
        (target / "images" / img.name).symlink_to(img.resolve())
        (target / "labels" / mask.name).symlink_to(mask.resolve())
    return target


def overfit(
    data: Path,
    preset_name: str,
    steps: int,
    pairs: int,
    perceptual: str,
    every: int,
    threads: int,
    lr_g: float,
    lr_d: float,
    batch: int,
) -> dict:
    import torch

    from ca2sis.config import preset
    from ca2sis.train.config import TrainConfig
    from ca2sis.train.loop import Trainer

    torch.set_num_threads(threads)
    curve: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = link_pairs(data, Path(tmp) / "data", pairs)
        cfg = TrainConfig(
            data=str(folder),
            preset=preset_name,
            perceptual=perceptual,
            workers=0,
            max_steps=steps,
            batch_size=batch,
            lr_g=lr_g,
            lr_d=lr_d,
            checkpoint_every=every,
            log_every=every,
            epochs=steps,  # constant learning rate for the whole run
            epochs_decay=0,
            image_every=10**9,
            val_batch=pairs,
        )
        trainer = Trainer(cfg, preset(preset_name), Path(tmp) / "run")
        curve.append({"step": 0, "val_l1": trainer.validate()})
        real_checkpoint = trainer.checkpoint

        def recording_checkpoint() -> None:
            curve.append({"step": trainer.step, "val_l1": trainer.validate()})
            real_checkpoint()

        trainer.checkpoint = recording_checkpoint  # type: ignore[method-assign]
        t0 = time.perf_counter()
        summary = trainer.train()
        seconds = time.perf_counter() - t0
    return {
        "preset": preset_name,
        "pairs": pairs,
        "steps": steps,
        "batch": batch,
        "perceptual": perceptual,
        "lr_g": lr_g,
        "lr_d": lr_d,
        "seconds": round(seconds, 1),
        "curve": curve,
        "losses": summary["history"],
        "first_l1": curve[0]["val_l1"],
        "last_l1": curve[-1]["val_l1"],
        "min_l1": min(c["val_l1"] for c in curve),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(SHARED_MINI), help="folder with images/*.jpg and masks/*.png")
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--every", type=int, default=25, help="steps between L1 measurements")
    parser.add_argument("--perceptual", default="inception", choices=("off", "inception", "vgg19"))
    parser.add_argument("--lr-g", type=float, default=1e-4)
    parser.add_argument("--lr-d", type=float, default=4e-4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", help="write the curve here")
    args = parser.parse_args()
    data = Path(args.data)
    if not (data / "images").is_dir():
        print(f"error: no images/ in {data}; pass --data", file=sys.stderr)
        return 2
    result = overfit(
        data,
        args.preset,
        args.steps,
        args.pairs,
        args.perceptual,
        args.every,
        args.threads,
        args.lr_g,
        args.lr_d,
        args.batch,
    )
    for point in result["curve"]:
        print(f"step {point['step']:5d}  reconstruction L1 {point['val_l1']:.4f}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
