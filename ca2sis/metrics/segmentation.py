"""Segmentation agreement: a confusion matrix accumulated over a data set, then mIoU and pixel accuracy."""

from __future__ import annotations

import numpy as np


class ConfusionMatrix:
    def __init__(self, num_classes: int) -> None:
        self.n = num_classes
        self.matrix = np.zeros((num_classes, num_classes), dtype=np.int64)  # rows: truth, columns: prediction

    def update(self, truth: np.ndarray, prediction: np.ndarray) -> None:
        if truth.shape != prediction.shape:
            raise ValueError(f"truth is {truth.shape} but prediction is {prediction.shape}")
        idx = truth.astype(np.int64).ravel() * self.n + prediction.astype(np.int64).ravel()
        self.matrix += np.bincount(idx, minlength=self.n * self.n).reshape(self.n, self.n)

    def iou(self) -> np.ndarray:
        """Per-class IoU; NaN for classes absent from both truth and prediction."""
        tp = np.diag(self.matrix).astype(np.float64)
        union = self.matrix.sum(0) + self.matrix.sum(1) - tp
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(union > 0, tp / union, np.nan)

    def miou(self) -> float:
        return float(np.nanmean(self.iou())) if np.isfinite(self.iou()).any() else float("nan")

    def accuracy(self) -> float:
        total = self.matrix.sum()
        return float(np.diag(self.matrix).sum() / total) if total else float("nan")
