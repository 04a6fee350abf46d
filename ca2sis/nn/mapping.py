"""Mapping network: a noise vector → one random style token per class (the paper's diversity branch)."""

from __future__ import annotations

import torch
from torch import nn


def _mlp(dims: list[int], last_activation: bool) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if last_activation or i < len(dims) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class MappingNetwork(nn.Module):
    """A shared ReLU MLP trunk, then one MLP head per class with a linear last layer."""

    def __init__(self, noise_dim: int, hidden: int, layers: int, num_classes: int, style_dim: int) -> None:
        super().__init__()
        self.noise_dim = noise_dim
        self.trunk = _mlp([noise_dim] + [hidden] * layers, last_activation=True)
        self.heads = nn.ModuleList(
            _mlp([hidden] * layers + [style_dim], last_activation=False) for _ in range(num_classes)
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z: B×noise_dim → styles B×C×style_dim."""
        h = self.trunk(z)
        return torch.stack([head(h) for head in self.heads], dim=1)
