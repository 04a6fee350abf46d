"""The multi-scale patch discriminator of the (CA)²-SIS recipe.

Each scale is a small PatchGAN that sees the one-hot mask concatenated with the RGB image
(C + 3 channels). Layout per scale, with kernel 4 and padding 2 throughout:

    conv (C+3 → ndf, stride 2), LeakyReLU 0.2                              no norm
    n-1 × [spectral-norm conv without bias (×2 width, stride 2), InstanceNorm, LeakyReLU 0.2]
    conv (→ 1, stride 1)                                                   patch logits

Unlike SPADE, every intermediate conv has stride 2 (the authors' choice). The second scale sees the
input average-pooled by 2 (3×3 window, padding 1, padding excluded from the average).

Initialisation: the plain convs get xavier-normal with gain 0.02 and zero bias. The spectral-norm
convs keep PyTorch's default init, because the authors' xavier call only replaces the derived
``weight`` attribute there, which spectral norm recomputes from the untouched original.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import spectral_norm


class PatchDiscriminator(nn.Module):
    """One scale. ``forward`` returns the intermediate features followed by the patch logits."""

    def __init__(self, in_channels: int, ndf: int = 64, n_layers: int = 3) -> None:
        super().__init__()
        kw, pad = 4, 2
        layers: list[nn.Module] = [
            nn.Sequential(nn.Conv2d(in_channels, ndf, kw, stride=2, padding=pad), nn.LeakyReLU(0.2))
        ]
        width = ndf
        for _ in range(1, n_layers):
            nxt = min(width * 2, 512)
            conv = spectral_norm(nn.Conv2d(width, nxt, kw, stride=2, padding=pad, bias=False))
            layers.append(nn.Sequential(conv, nn.InstanceNorm2d(nxt, affine=False), nn.LeakyReLU(0.2)))
            width = nxt
        layers.append(nn.Sequential(nn.Conv2d(width, 1, kw, stride=1, padding=pad)))
        self.layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outputs = []
        for layer in self.layers:
            x = layer(x)
            outputs.append(x)
        return outputs


class MultiscaleDiscriminator(nn.Module):
    """``num_scales`` patch discriminators on progressively halved inputs.

    ``forward(onehot, image)`` returns one list per scale: ``[feat_1, ..., feat_{n}, logits]``.
    """

    def __init__(self, num_classes: int, ndf: int = 64, n_layers: int = 3, num_scales: int = 2) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.scales = nn.ModuleList(PatchDiscriminator(num_classes + 3, ndf, n_layers) for _ in range(num_scales))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for module in self.modules():
            # Spectral-norm convs carry ``weight_orig``; they keep their default init (see module doc).
            if isinstance(module, nn.Conv2d) and not hasattr(module, "weight_orig"):
                nn.init.xavier_normal_(module.weight, gain=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def forward(self, onehot: torch.Tensor, image: torch.Tensor) -> list[list[torch.Tensor]]:
        if onehot.shape[1] != self.num_classes:
            raise ValueError(f"discriminator expects {self.num_classes} mask channels, got {onehot.shape[1]}")
        x = torch.cat([onehot, image], dim=1)
        results = []
        for i, scale in enumerate(self.scales):
            if i:
                x = F.avg_pool2d(x, kernel_size=3, stride=2, padding=1, count_include_pad=False)
            results.append(scale(x))
        return results
