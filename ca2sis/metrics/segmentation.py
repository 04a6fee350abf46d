"""Segmentation scores: a confusion matrix accumulated over many masks, IoU per class, pixel accuracy.

IoU is summed over the whole set (total intersection / total union per class), the usual way face
parsers are compared; classes absent from both the truth and the predictions of every mask are left
out of the mean rather than counted as perfect.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class ConfusionMatrix:
    num_classes: int
    counts: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.counts = np.zeros((self.num_classes, self.num_classes), dtype=np.int64)

    def add(self, truth: np.ndarray, pred: np.ndarray) -> None:
        """Rows are true classes, columns predicted ones."""
        if truth.shape != pred.shape:
            raise ValueError(f"truth {truth.shape} and prediction {pred.shape} differ in size")
        n = self.num_classes
        idx = truth.astype(np.int64).ravel() * n + pred.astype(np.int64).ravel()
        self.counts += np.bincount(idx, minlength=n * n).reshape(n, n)

    def iou(self) -> np.ndarray:
        """Per-class IoU; NaN where the class never occurs in truth or prediction."""
        inter = np.diag(self.counts).astype(np.float64)
        union = self.counts.sum(0) + self.counts.sum(1) - inter
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(union > 0, inter / union, np.nan)

    def miou(self) -> float:
        return float(np.nanmean(self.iou()))

    def background_taken_for_foreground(self, background: int = 0) -> float:
        """Share of the truly-background pixels that were labelled as any other class (for a face
        parser: as skin, hair, hat, cloth...). NaN when there is no background in the truth."""
        row = self.counts[background]
        total = row.sum()
        return float((total - row[background]) / total) if total else float("nan")

    def pixel_accuracy(self) -> float:
        total = self.counts.sum()
        return float(np.trace(self.counts) / total) if total else float("nan")


def score_table(cm: ConfusionMatrix, names: list[str]) -> str:
    """A readable per-class IoU table."""
    lines = [f"{'class':<12} {'IoU':>6}  {'true px':>10}"]
    for name, iou, support in zip(names, cm.iou(), cm.counts.sum(1), strict=True):
        shown = "   n/a" if np.isnan(iou) else f"{iou:6.3f}"
        lines.append(f"{name:<12} {shown}  {int(support):>10}")
    lines.append(f"{'mIoU':<12} {cm.miou():6.3f}")
    lines.append(f"{'pixel acc':<12} {cm.pixel_accuracy():6.3f}")
    return "\n".join(lines)
