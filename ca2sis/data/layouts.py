"""Which folder layouts a data set may come in, and opening one as :class:`SegmentationPairs`.

Kinds:
- ``celebamask``: the preprocessed CelebAMask-HQ release, ``{train,test}/{images,labels}`` (19 classes),
  or the raw release (``CelebA-HQ-img/`` + ``CelebAMask-HQ-mask-anno/``), detected automatically;
- ``folder``: any ``[split/]{images}/`` + ``{labels|masks}/`` pair of folders with ``--num-classes``;
- ``ade20k``: ``ADEChallengeData2016`` (``images/{training,validation}``, ``annotations/...``),
  150 classes plus 0 = unlabeled, i.e. 151 ids as the SPADE-lineage loaders keep them;
- ``deepfashion``: the folder layout with 8 classes by default (the segmentation label set common in
  semantic-image-synthesis papers on DeepFashion); ``--num-classes`` overrides it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ca2sis.classes import CELEBAMASK_HQ, ClassTable, ade20k
from ca2sis.data import celebamask_raw
from ca2sis.data.dataset import SegmentationPairs
from ca2sis.data.pairs import DataError, Pair, find_pairs
from ca2sis.data.transforms import AugmentConfig

KINDS = ("auto", "celebamask", "folder", "ade20k", "deepfashion")
LABEL_DIR_NAMES = ("labels", "masks", "label", "mask", "annotations")
IMAGE_DIR_NAMES = ("images", "image", "imgs")
SPLIT_ALIASES = {"train": ("train", "training"), "test": ("test", "val", "validation")}
DEFAULT_CLASSES = {"celebamask": 19, "ade20k": 151, "deepfashion": 8}


@dataclass(frozen=True)
class DataSpec:
    root: Path
    kind: str = "auto"
    num_classes: int | None = None
    cache_dir: Path | None = None


def _subdir(folder: Path, names: tuple[str, ...]) -> Path | None:
    return next((folder / n for n in names if (folder / n).is_dir()), None)


def detect_kind(root: Path) -> str:
    if celebamask_raw.is_raw_layout(root):
        return "celebamask"
    if (root / "ADEChallengeData2016").is_dir() or (
        (root / "images" / "training").is_dir() and (root / "annotations" / "training").is_dir()
    ):
        return "ade20k"
    return "folder"


def class_table(kind: str, num_classes: int) -> ClassTable:
    if kind == "celebamask" or (kind == "folder" and num_classes == len(CELEBAMASK_HQ)):
        return CELEBAMASK_HQ
    if kind == "ade20k":
        return ade20k()
    return ClassTable.generic(num_classes, name=kind)


def resolve_num_classes(spec: DataSpec, kind: str) -> int:
    if spec.num_classes:
        return spec.num_classes
    # A plain folder of face masks is the common case; other label sets must say their size.
    return DEFAULT_CLASSES.get(kind, 19)


def _folder_pairs(root: Path, split: str, strict: bool) -> list[Pair]:
    """``root/<split>/{images,labels}``, else ``root/{images,labels}`` (the same pairs for every split)."""
    for name in SPLIT_ALIASES.get(split, (split,)):
        base = root / name
        img, lab = _subdir(base, IMAGE_DIR_NAMES), _subdir(base, LABEL_DIR_NAMES)
        if img and lab:
            return find_pairs(img, lab, strict)
    img, lab = _subdir(root, IMAGE_DIR_NAMES), _subdir(root, LABEL_DIR_NAMES)
    if img and lab:
        return find_pairs(img, lab, strict)
    raise DataError(
        f"no data in {root}: expected {split}/images + {split}/labels, images + labels (or masks), "
        "or a CelebAMask-HQ / ADE20k release"
    )


def _ade_pairs(root: Path, split: str, strict: bool) -> list[Pair]:
    if (root / "ADEChallengeData2016").is_dir():
        root = root / "ADEChallengeData2016"
    sub = "training" if split == "train" else "validation"
    return find_pairs(root / "images" / sub, root / "annotations" / sub, strict)


def list_pairs(spec: DataSpec, split: str, strict: bool = False) -> tuple[str, list[Pair]]:
    root = Path(spec.root)
    if not root.is_dir():
        raise DataError(f"data folder not found: {root}")
    kind = detect_kind(root) if spec.kind == "auto" else spec.kind
    if kind not in KINDS:
        raise DataError(f"unknown data set kind {kind!r}; choose one of: {', '.join(KINDS)}")
    if kind == "celebamask" and celebamask_raw.is_raw_layout(root):
        return kind, celebamask_raw.merged_pairs(root, split, spec.cache_dir)
    if kind == "ade20k":
        return kind, _ade_pairs(root, split, strict)
    return kind, _folder_pairs(root, split, strict)


def open_dataset(
    spec: DataSpec,
    split: str,
    resolution: int,
    train: bool,
    flip: bool = True,
    swap_left_right: bool = True,
    strict: bool = False,
    seed: int = 0,
) -> SegmentationPairs:
    kind, pairs = list_pairs(spec, split, strict)
    num_classes = resolve_num_classes(spec, kind)
    table = class_table(kind, num_classes)
    lut = table.flip_lut() if len(table) == num_classes else np.arange(num_classes)
    augment = AugmentConfig(resolution=resolution, train=train, flip=flip, swap_left_right=swap_left_right)
    name = f"{kind}:{split}"
    return SegmentationPairs(pairs, num_classes, augment, lut, strict=strict, seed=seed, name=name,
                             classes=table if len(table) == num_classes else None)
