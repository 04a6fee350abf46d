"""The paired segmentation data set used for training and evaluation.

Augmentation randomness is a pure function of (seed, epoch, index): a resumed run, a different number
of loader workers or another rank sees exactly the same crops and flips for the same sample.
A bad sample (unreadable file, label out of range) is logged with its file name and replaced by the
next good one, unless ``strict`` is set.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from ca2sis.classes import ClassTable
from ca2sis.data.pairs import DataError, Pair, read_image, read_label
from ca2sis.data.transforms import AugmentConfig, PairTransform

log = logging.getLogger(__name__)


class SegmentationPairs(Dataset):
    """Items are dicts: ``image`` 3×H×W in [-1, 1], ``label`` H×W int64, ``index``, ``name``."""

    def __init__(
        self,
        pairs: Sequence[Pair],
        num_classes: int,
        augment: AugmentConfig,
        flip_lut: np.ndarray | None = None,
        strict: bool = False,
        seed: int = 0,
        ignore_value: int | None = None,
        name: str = "data",
        classes: ClassTable | None = None,
    ) -> None:
        if not pairs:
            raise DataError(f"data set {name!r} is empty")
        self.pairs = list(pairs)
        self.num_classes = num_classes
        self.classes = classes  # the label set's class table, when it is known
        self.transform = PairTransform(augment, flip_lut)
        self.strict = strict
        self.seed = seed
        self.epoch = 0
        self.ignore_value = ignore_value
        self.name = name
        self.bad: set[int] = set()

    def __len__(self) -> int:
        return len(self.pairs)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def load(self, index: int) -> dict[str, object]:
        pair = self.pairs[index]
        image = read_image(pair.image)
        label = read_label(pair.label, self.num_classes, self.ignore_value)
        if image.size != (label.shape[1], label.shape[0]):
            # Different sizes are fine (both are resized) but a different aspect ratio means a mismatch.
            ri, rl = image.size[0] / image.size[1], label.shape[1] / label.shape[0]
            if abs(ri - rl) > 0.01:
                raise DataError(f"image {pair.image} is {image.size} but label {pair.label} is {label.shape[::-1]}")
        rng = np.random.default_rng([self.seed, self.epoch, index])
        x, y = self.transform(image, label, rng)
        return {"image": x, "label": y, "index": index, "name": pair.name}

    def __getitem__(self, index: int) -> dict[str, object]:
        for attempt in range(min(len(self), 50)):
            i = (index + attempt) % len(self)
            try:
                return self.load(i)
            except DataError as exc:
                if self.strict:
                    raise
                if i not in self.bad:
                    self.bad.add(i)
                    log.warning("skipping bad sample: %s", exc)
        raise DataError(f"{self.name}: 50 samples in a row from index {index} are unreadable; is the folder right?")


def collate(items: list[dict[str, object]]) -> dict[str, object]:
    return {
        "image": torch.stack([it["image"] for it in items]),  # type: ignore[misc]
        "label": torch.stack([it["label"] for it in items]),  # type: ignore[misc]
        "index": torch.tensor([it["index"] for it in items]),
        "name": [it["name"] for it in items],
    }
