"""The cross-attention generator: shape tokens in, image out, styles through cross-attention.

The shape codes (one token per class) are viewed as a small grid of channels, lifted by a 1×1 conv
and grown stage by stage; every stage is a residual block followed by a spatial transformer whose
cross-attention reads the per-class style tokens.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ca2sis.config import ModelConfig
from ca2sis.nn.attention import CrossAttentionCapture, SpatialTransformer


class ResBlock(nn.Module):
    """GroupNorm → SiLU → [×2 nearest] → conv3×3 → GroupNorm → SiLU → zero-initialised conv3×3, plus skip."""

    def __init__(self, in_channels: int, out_channels: int, upsample: bool, norm_groups: int = 32) -> None:
        super().__init__()
        self.upsample = upsample
        self.norm1 = nn.GroupNorm(norm_groups, in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.norm2 = nn.GroupNorm(norm_groups, out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)
        self.skip = nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.silu(self.norm1(x))
        if self.upsample:
            # The authors' block upsamples after the activation, right before the conv.
            h = F.interpolate(h, scale_factor=2.0, mode="nearest")
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        h = self.conv1(h)
        h = self.conv2(F.silu(self.norm2(h)))
        skip = x if self.skip is None else self.skip(x)
        return skip + h


class GeneratorStage(nn.Module):
    def __init__(self, in_channels: int, stage, context_dim: int, norm_groups: int, ff_mult: int) -> None:
        super().__init__()
        self.res = ResBlock(in_channels, stage.channels, stage.upsample, norm_groups)
        self.attn = SpatialTransformer(stage.channels, stage.heads, stage.head_dim, context_dim,
                                       stage.self_attention, norm_groups, ff_mult)

    def forward(self, x: torch.Tensor, styles: torch.Tensor, capture: bool):
        return self.attn(self.res(x), styles, capture)


class Generator(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.token_grid = config.token_grid
        self.shape_in = nn.Conv2d(config.shape_classes, config.base_channels, 1)
        stages = []
        channels = config.base_channels
        for stage in config.stages:
            stages.append(GeneratorStage(channels, stage, config.context_dim, config.norm_groups, config.ff_mult))
            channels = stage.channels
        self.stages = nn.ModuleList(stages)
        self.to_rgb = nn.Conv2d(channels, 3, 1)

    def forward(self, shape_codes: torch.Tensor, styles: torch.Tensor, capture: bool = False
                ) -> tuple[torch.Tensor, list[CrossAttentionCapture]]:
        """shape_codes: B×K×T (T = token_grid²); styles: B×C×D. Returns image B×3×H×W in [-1, 1]."""
        b, k, _ = shape_codes.shape
        x = self.shape_in(shape_codes.reshape(b, k, self.token_grid, self.token_grid))
        captures = []
        for stage in self.stages:
            x, cap = stage(x, styles, capture)
            if cap is not None:
                captures.append(cap)
        return torch.tanh(self.to_rgb(x)), captures
