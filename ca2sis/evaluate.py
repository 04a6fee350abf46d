"""Evaluate a generator on a test folder: FID, face-parser agreement, reconstruction quality.

Every test image is reconstructed from its own mask and its own styles (the standard semantic
image synthesis protocol), then:
- FID between the real test images and the reconstructions (see :mod:`ca2sis.metrics.fid` for which
  InceptionV3 is used; the report names it, since the two give different numbers);
- mIoU and pixel accuracy of the face parser's masks of the generated images against the input
  masks (CelebAMask-HQ models only; skipped with a note when no parser is available);
- L1 (in [-1, 1] units), PSNR and SSIM of the reconstructions.

With ``random_styles`` (models whose mapping network was trained), each test mask is also rendered
twice with styles drawn from the mapping network: FID of those images against the real ones, and
their diversity, the mean |G(z₁) − G(z₂)| between the two draws (the quantity the mapping stage's
diversity term rewards; 0 means every draw gives the same face).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from ca2sis.checkpoint import load_model
from ca2sis.classes import CELEBAMASK_HQ
from ca2sis.data import DataError, DataSpec, SegmentationPairs, collate, open_dataset
from ca2sis.metrics import reconstruction as rec
from ca2sis.metrics.fid import FID
from ca2sis.metrics.segmentation import ConfusionMatrix
from ca2sis.parsing.sides import standard_sides
from ca2sis.tensors import one_hot, tensor_to_image
from ca2sis.train.steps import random_styles

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvalConfig:
    weights: Path
    data: Path
    dataset: str = "auto"
    split: str = "test"
    batch_size: int = 4
    max_images: int | None = None
    device: str = "cpu"
    fid: str = "auto"  # auto | pytorch-fid | fid-helper | off
    parser: str = "auto"  # a ca2sis.parsing back end, or off
    workers: int = 0
    random_styles: bool = False
    seed: int = 0  # noise of the random-style renders


def _load_parser(name: str, num_classes: int, device: str) -> tuple[Any, str | None]:
    """(parser, None) or (None, why the segmentation metric is skipped)."""
    if name == "off":
        return None, "switched off (--parser off)"
    if num_classes != 19:
        return None, f"the face parser knows CelebAMask-HQ's 19 classes; this model has {num_classes}"
    try:
        from ca2sis.parsing import load_parser

        return load_parser(name, device=device), None
    except Exception as exc:  # missing weights, missing package: the other metrics still run
        return None, f"face parser unavailable: {exc}"


def _random_styles(model, onehot: torch.Tensor, noise: torch.Generator) -> torch.Tensor:
    z = torch.randn(onehot.shape[0], model.config.mapping_dim, generator=noise).to(onehot.device)
    return random_styles(model, onehot, z)


def _parse_at(parser, image: torch.Tensor, size: tuple[int, int]) -> np.ndarray:
    """Parse a [-1, 1] image tensor; the labels come back at ``size`` (nearest)."""
    pred = parser.parse(tensor_to_image(image))
    if pred.shape != size:
        pred = F.interpolate(torch.from_numpy(pred)[None, None].float(), size=size, mode="nearest")[0, 0].numpy()
    return np.asarray(pred)


class _EachOnce(Dataset):
    """The first ``n`` samples, each at most once. Training replaces a bad sample by the next good one;
    an evaluation must not (that sample would count twice), so a bad one is reported and left out."""

    def __init__(self, pairs: SegmentationPairs, n: int) -> None:
        self.pairs, self.n = pairs, n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> dict[str, Any]:
        try:
            return self.pairs.load(index)
        except DataError as exc:
            return {"skipped": self.pairs.pairs[index].name, "error": str(exc)}


def _collate_good(items: list[dict[str, Any]]) -> dict[str, Any]:
    good = [it for it in items if "skipped" not in it]
    batch = collate(good) if good else {}
    batch["skipped"] = [{"name": it["skipped"], "error": it["error"]} for it in items if "skipped" in it]
    return batch


def evaluate(cfg: EvalConfig) -> dict[str, Any]:
    t0 = time.perf_counter()
    model, mconf, meta = load_model(cfg.weights, device=cfg.device)
    spec = DataSpec(Path(cfg.data), cfg.dataset, mconf.num_classes)
    ds = open_dataset(spec, cfg.split, mconf.resolution, train=False)
    wanted = len(ds) if cfg.max_images is None else min(cfg.max_images, len(ds))
    loader = DataLoader(_EachOnce(ds, wanted), batch_size=cfg.batch_size, num_workers=cfg.workers,
                        collate_fn=_collate_good)
    n, skipped = 0, []
    fid = FID(cfg.fid, cfg.device) if cfg.fid != "off" else None
    parser, parser_note = _load_parser(cfg.parser, mconf.num_classes, cfg.device)
    confusion = ConfusionMatrix(mconf.num_classes)
    # The same parser on the real images at the same size: the ceiling for the generated-image score.
    confusion_real = ConfusionMatrix(mconf.num_classes)
    # CelebAMask-HQ masks that name left and right the other way round, renamed (ca2sis.parsing.sides):
    # how much of the score is that naming rather than the generator.
    sides = mconf.num_classes == len(CELEBAMASK_HQ)
    confusion_sides = ConfusionMatrix(mconf.num_classes)
    l1s, psnrs, ssims = [], [], []
    fid_random = FID(cfg.fid, cfg.device) if cfg.random_styles and cfg.fid != "off" else None
    diversity: list[torch.Tensor] = []
    noise = torch.Generator().manual_seed(cfg.seed)
    with torch.no_grad():
        for batch in tqdm(loader, desc="evaluating", unit="batch"):
            for bad in batch["skipped"]:
                log.warning("skipping bad sample %s: %s", bad["name"], bad["error"])
            skipped += batch["skipped"]
            if "image" not in batch:
                continue
            n += batch["image"].shape[0]
            real = batch["image"].to(cfg.device)
            onehot = one_hot(batch["label"].to(cfg.device), mconf.num_classes)
            shapes = model.embed_mask(onehot)  # shared by the reconstruction and the random-style renders
            fake = model.generate(shapes, model.encode_style(real, onehot)).image.float()
            l1s.append(rec.l1(fake, real).cpu())
            psnrs.append(rec.psnr(fake, real).cpu())
            ssims.append(rec.ssim(fake, real).cpu())
            if fid is not None:
                fid.add(real, fake)
            if cfg.random_styles:
                draws = [model.generate(shapes, _random_styles(model, onehot, noise)).image.float() for _ in range(2)]
                diversity.append((draws[0] - draws[1]).abs().mean((1, 2, 3)).cpu())
                if fid_random is not None:
                    fid_random.add(real, draws[0])
            if parser is not None:
                for img, real_img, label in zip(fake, real, batch["label"], strict=True):
                    truth = label.numpy()
                    pred = _parse_at(parser, img, truth.shape)
                    confusion.add(truth, pred)
                    if sides:
                        confusion_sides.add(standard_sides(truth), pred)
                    confusion_real.add(truth, _parse_at(parser, real_img, truth.shape))
    if n == 0:
        raise DataError(f"none of the {wanted} test samples in {cfg.data} could be read (e.g. {skipped[0]['error']})")
    report: dict[str, Any] = {
        "weights": str(cfg.weights),
        "model": mconf.name,
        "data": str(cfg.data),
        "split": cfg.split,
        "images": n,  # scored; a sample that could not be read is listed under "skipped", never replaced
        "skipped": skipped,
        "resolution": mconf.resolution,
        "reconstruction": {
            "l1": float(torch.cat(l1s).mean()),
            "psnr_db": float(torch.cat(psnrs).mean()),
            "ssim": float(torch.cat(ssims).mean()),
        },
    }
    if fid is not None:
        score = fid.score()
        kid, kid_std = fid.kid()
        report["fid"] = {
            "value": score if math.isfinite(score) else None,
            "network": fid.description,
            "backend": fid.backend,
        }
        report["kid"] = {
            "value": kid if math.isfinite(kid) else None,
            "std": kid_std if math.isfinite(kid_std) else None,
            "network": fid.description,
            "note": "unbiased MMD² with a cubic polynomial kernel on the FID network's features, mean ± std over "
                    "100 random subsets (1,000 images each, or half the set when smaller); ×1000 is the usual "
                    "way to print it",
        }
        if n < 2048:
            report["fid"]["note"] = f"computed on {n} images; FID is biased upward below a few thousand"
    else:
        report["fid"] = {"value": None, "note": "switched off (--fid off)"}
    if parser is not None:
        report["segmentation"] = {
            "parser": getattr(parser, "name", cfg.parser),
            "miou": confusion.miou(),
            "accuracy": confusion.pixel_accuracy(),
            "real_miou": confusion_real.miou(),
            "real_accuracy": confusion_real.pixel_accuracy(),
            "miou_standard_sides": confusion_sides.miou() if sides else None,
        }
    else:
        report["segmentation"] = {"miou": None, "accuracy": None, "note": parser_note}
    if cfg.random_styles:
        value = fid_random.score() if fid_random is not None else math.nan
        kid_random = fid_random.kid()[0] if fid_random is not None else math.nan
        report["random_styles"] = {
            "fid": value if math.isfinite(value) else None,
            "kid": kid_random if math.isfinite(kid_random) else None,
            "diversity_l1": float(torch.cat(diversity).mean()),
            "mapping": meta.get("mapping", "trained"),
        }
    report["seconds"] = round(time.perf_counter() - t0, 2)
    return report


def _thousand(value: float | None) -> float | None:
    return None if value is None else 1000 * value


def format_table(report: dict[str, Any]) -> str:
    def f(v: Any, fmt: str) -> str:
        return "n/a" if v is None else format(v, fmt)

    skipped = len(report.get("skipped", []))
    rows = [
        ("images", str(report["images"]),
         f"{report['model']} at {report['resolution']}²" + (f"; {skipped} unreadable skipped" if skipped else "")),
        ("FID ↓", f(report["fid"]["value"], ".2f"), report["fid"].get("network") or report["fid"].get("note", "")),
        ("KID ×1000 ↓", f(_thousand(report.get("kid", {}).get("value")), ".2f"),
         "± " + f(_thousand(report.get("kid", {}).get("std")), ".2f") if report.get("kid") else ""),
        (
            "parser mIoU ↑",
            f(report["segmentation"]["miou"], ".4f"),
            report["segmentation"].get("parser") or report["segmentation"].get("note", ""),
        ),
        ("parser accuracy ↑", f(report["segmentation"]["accuracy"], ".4f"), ""),
        ("  one side naming", f(report["segmentation"].get("miou_standard_sides"), ".4f"),
         "the test masks that name left and right the other way round renamed first"),
        ("  on real images", f(report["segmentation"].get("real_miou"), ".4f"),
         "the same parser on the real test images at the same size (the ceiling)"),
        ("L1 ↓", f(report["reconstruction"]["l1"], ".4f"), "mean |fake − real| in [-1, 1]"),
        ("PSNR ↑", f(report["reconstruction"]["psnr_db"], ".2f") + " dB", ""),
        ("SSIM ↑", f(report["reconstruction"]["ssim"], ".4f"), ""),
    ]
    if "random_styles" in report:
        rnd = report["random_styles"]
        rows += [
            ("random-style FID ↓", f(rnd["fid"], ".2f"), f"styles from the mapping network ({rnd['mapping']})"),
            ("random-style KID ×1000 ↓", f(_thousand(rnd.get("kid")), ".2f"), ""),
            ("random-style diversity ↑", f(rnd["diversity_l1"], ".4f"), "mean |G(z1) − G(z2)| in [-1, 1]"),
        ]
    width = max(len(r[0]) for r in rows)
    vwidth = max(len(r[1]) for r in rows)
    return "\n".join(f"{a:<{width}}  {b:>{vwidth}}  {c}".rstrip() for a, b, c in rows)
