"""(CA)²-SIS: the whole synthesis model, with named entry points.

    shape codes = embed_mask(one-hot of the layout)            B×K×T
    style codes = encode_style(photo, one-hot of its mask)     B×C×D
    image       = generate(shape codes, style codes)           B×3×H×W

Editing is arithmetic on those codes (see :mod:`ca2sis.editing`); the generator only ever sees codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from ca2sis.config import ModelConfig
from ca2sis.nn.attention import CrossAttentionCapture
from ca2sis.nn.generator import Generator
from ca2sis.nn.mapping import MappingNetwork
from ca2sis.nn.mask_embedder import MaskEmbedder
from ca2sis.nn.style_encoder import StyleEncoder


@dataclass
class SynthesisOutput:
    image: torch.Tensor  # B×3×H×W in [-1, 1]
    attention_loss: torch.Tensor | None = None
    attention: list[CrossAttentionCapture] = field(default_factory=list)  # one per generator stage


def attention_loss(captures: list[CrossAttentionCapture], target: torch.Tensor) -> torch.Tensor:
    """Per-class sigmoid BCE between head-averaged cross-attention logits and the class masks.

    For every layer: resize the one-hot target (background included) to the layer's size with
    nearest, take BCE-with-logits for each class averaged over batch and pixels, average over
    classes; then average over layers.
    """
    losses = []
    for cap in captures:
        t = F.interpolate(target, size=cap.logits.shape[-2:], mode="nearest")
        per_class = F.binary_cross_entropy_with_logits(cap.logits.float(), t, reduction="none")
        losses.append(per_class.mean(dim=(0, 2, 3)).mean())
    return torch.stack(losses).mean()


class CA2SIS(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.mask_embedder = MaskEmbedder(config.mask_size, config.token_dim)
        self.style_encoder = StyleEncoder(config)
        self.generator = Generator(config)
        self.mapping = MappingNetwork(
            config.mapping_dim, config.mapping_hidden, config.mapping_layers, config.num_classes,
            config.context_dim,
        )

    # -- named entry points -------------------------------------------------------------------
    def embed_mask(self, onehot: torch.Tensor) -> torch.Tensor:
        """B×C×H×W one-hot → B×K×T shape codes (background dropped when the config says so)."""
        self._check_onehot(onehot)
        if self.config.exclude_background:
            onehot = onehot[:, 1:]
        return self.mask_embedder(onehot)

    def encode_style(self, image: torch.Tensor, onehot: torch.Tensor) -> torch.Tensor:
        """Photo B×3×H×W in [-1, 1] and its B×C×H×W one-hot → B×C×D style codes."""
        self._check_onehot(onehot)
        if image.shape[-2:] != onehot.shape[-2:]:
            raise ValueError(f"image is {tuple(image.shape[-2:])} but its mask is {tuple(onehot.shape[-2:])}")
        return self.style_encoder(image, onehot)

    def generate(self, shape_codes: torch.Tensor, style_codes: torch.Tensor,
                 attention_target: torch.Tensor | None = None, return_attention: bool = False
                 ) -> SynthesisOutput:
        """Render from codes. ``attention_target`` (the style one-hot) adds the attention loss."""
        capture = return_attention or attention_target is not None
        image, captures = self.generator(shape_codes, style_codes, capture=capture)
        loss = attention_loss(captures, attention_target) if attention_target is not None else None
        return SynthesisOutput(image, loss, captures if return_attention else [])

    def forward(self, image: torch.Tensor, onehot: torch.Tensor, shape_onehot: torch.Tensor | None = None
                ) -> SynthesisOutput:
        """Training pass: styles from (image, onehot), shape from ``shape_onehot`` (default: onehot)."""
        shape = self.embed_mask(onehot if shape_onehot is None else shape_onehot)
        styles = self.encode_style(image, onehot)
        return self.generate(shape, styles, attention_target=onehot)

    def sample_styles(self, z: torch.Tensor) -> torch.Tensor:
        """Noise B×mapping_dim → random style codes B×C×D (absent classes are not zeroed here)."""
        return self.mapping(z)

    def set_gradient_checkpointing(self, enabled: bool) -> None:
        for stage in self.generator.stages:
            stage.attn.gradient_checkpointing = enabled

    def set_token_chunk(self, tokens: int) -> None:
        """Pixels per slice of the per-pixel layers at inference (0: the whole map in one go)."""
        for stage in self.generator.stages:
            stage.attn.block.token_chunk = tokens

    def set_materialised_attention(self, enabled: bool) -> None:
        """Use explicit softmax(QKᵀ)V everywhere (the naive reference path for benchmarks)."""
        for module in self.modules():
            if hasattr(module, "materialise"):
                module.materialise = enabled

    def _check_onehot(self, onehot: torch.Tensor) -> None:
        if onehot.dim() != 4 or onehot.shape[1] != self.config.num_classes:
            raise ValueError(
                f"expected a B×{self.config.num_classes}×H×W one-hot mask, got shape {tuple(onehot.shape)}"
            )
