"""Multi-resolution grouped style encoder: one style token per class, pooled at several scales.

An encoder/decoder of grouped convolutions (one group per class) turns the photo into features; at
every decoder scale the features of class c's channel group are averaged over class c's region and
projected to ``style_dim`` values. The per-scale codes are concatenated (coarse first) into one
``style_scales·style_dim`` token per class.

One fact of the authors' network is kept on purpose: the decoder concatenates [decoder features,
encoder skip] along channels and then applies a grouped convolution, so a group reads a contiguous
channel slice that, past the middle, belongs to two *other* classes. Their weights were trained
with that wiring; a "cleaner" per-class interleave would be a different model.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ca2sis.config import ModelConfig


class ConvNormReLU(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, groups: int, norm_groups: int, stride: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1, groups=groups)
        self.norm = nn.GroupNorm(norm_groups, out_ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.norm(self.conv(x)))


def masked_average(features: torch.Tensor, masks: torch.Tensor, per_class: int) -> torch.Tensor:
    """Average each class's channel group over that class's region.

    features: B×(C·g)×H×W, masks: B×C×H×W (one-hot at the same size) → B×(C·g).
    An absent class averages to 0 (the 1e-5 keeps the division finite).
    """
    m = masks.repeat_interleave(per_class, dim=1)
    return (features * m).sum(dim=(2, 3)) / (m.sum(dim=(2, 3)) + 1e-5)


class StyleEncoder(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        c = config.num_classes
        base = c * config.style_width
        widths = [base * 2 ** (i + 1) for i in range(config.style_downsamples)]  # after each down layer
        self.num_classes = c
        self.stem = ConvNormReLU(3, base, groups=1, norm_groups=c)
        self.down = nn.ModuleList()
        prev = base
        for w in widths:
            self.down.append(ConvNormReLU(prev, w, groups=c, norm_groups=c, stride=2))
            prev = w
        self.up = nn.ModuleList()
        self.heads = nn.ModuleList()
        for j in range(config.style_scales):
            in_ch = widths[-1] if j == 0 else 2 * widths[-1 - j]
            out_ch = widths[-2 - j]
            self.up.append(ConvNormReLU(in_ch, out_ch, groups=c, norm_groups=c))
            self.heads.append(nn.Conv1d(out_ch, c * config.style_dim, 1, groups=c))
        self.style_dim = config.style_dim

    def forward(self, image: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        """image: B×3×H×W in [-1, 1]; masks: B×C×H×W one-hot → styles B×C×(scales·style_dim)."""
        x = self.stem(image)
        skips = []
        for layer in self.down:
            x = layer(x)
            skips.append(x)
        skips.pop()  # the bottom feature is the decoder's input, not a skip
        codes = []
        for j, (layer, head) in enumerate(zip(self.up, self.heads, strict=True)):
            if j > 0:
                x = torch.cat([x, skips.pop()], dim=1)
            x = layer(F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False))
            m = F.interpolate(masks, size=x.shape[-2:], mode="nearest")
            pooled = masked_average(x, m, x.shape[1] // self.num_classes)
            code = torch.tanh(head(pooled[..., None]))  # B×(C·style_dim)×1
            codes.append(code.view(x.shape[0], self.num_classes, self.style_dim))
        return torch.cat(codes, dim=2)
