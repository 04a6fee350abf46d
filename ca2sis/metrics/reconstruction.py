"""Per-image reconstruction metrics on images in [-1, 1]: L1, PSNR and SSIM (computed on [0, 1])."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def l1(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Mean absolute error per image, in the model's [-1, 1] units (what training reports)."""
    return (fake.float() - real.float()).abs().flatten(1).mean(1)


def psnr(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """PSNR in dB per image, with a peak of 1 on [0, 1] images."""
    mse = ((fake.float() - real.float()) / 2).pow(2).flatten(1).mean(1)
    return 10 * torch.log10(1.0 / mse.clamp_min(1e-10))


def gaussian_kernel(size: int, sigma: float, dtype: torch.dtype = torch.float32,
                    device: torch.device | str | None = None) -> torch.Tensor:
    """A normalised 1-D Gaussian of ``size`` taps centred on the middle one (SSIM's window, blurs)."""
    x = torch.arange(size, dtype=dtype, device=device) - size // 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def ssim(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """SSIM per image (Wang et al. 2004: 11×11 Gaussian window, σ 1.5, K1 0.01, K2 0.03), channel mean."""
    a, b = (fake.float() + 1) / 2, (real.float() + 1) / 2
    c = a.shape[1]
    size = min(11, a.shape[-1], a.shape[-2])
    g = gaussian_kernel(size, 1.5, device=a.device)
    window = (g[:, None] * g[None, :]).expand(c, 1, size, size)

    def blur(x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, window, groups=c)

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    c1, c2 = 0.01**2, 0.03**2
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return s.flatten(1).mean(1)
