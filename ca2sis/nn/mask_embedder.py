"""Mask embedder: each class's binary mask → one shape token, through one linear layer shared by all classes.

There is no positional encoding anywhere in the generator: spatial layout reaches it only through
this linear map, which can place any mask pattern anywhere on the token grid.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class MaskEmbedder(nn.Module):
    def __init__(self, mask_size: int, token_dim: int) -> None:
        super().__init__()
        self.mask_size = mask_size
        self.proj = nn.Linear(mask_size * mask_size, token_dim)

    def forward(self, masks: torch.Tensor) -> torch.Tensor:
        """masks: B×K×H×W (one-hot channels of the classes that get shape codes) → B×K×token_dim."""
        small = F.interpolate(masks, size=(self.mask_size, self.mask_size), mode="nearest")
        return self.proj(small.flatten(2))
