"""Spatial transformer: pixels attend to themselves and to the per-class style tokens.

The cross-attention is where (CA)²-SIS puts style: each pixel's query is compared with one token per
class, so a softmax over classes decides which class's style a pixel takes. Its pre-softmax scores
are what the attention loss supervises and what the editor shows as heat maps. They are only
materialised when somebody asks (``capture``); the plain forward uses fused attention kernels.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
import torch.utils.checkpoint
from torch import nn


@dataclass
class CrossAttentionCapture:
    """Head-averaged cross-attention scores of one layer, B×C×H×W (pre-softmax logits)."""

    logits: torch.Tensor

    @property
    def probabilities(self) -> torch.Tensor:
        return self.logits.softmax(dim=1)


def _split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    # B×N×(h·d) → B×h×N×d: channel index = head·d + i, the layout of the authors' weights.
    b, n, _ = x.shape
    return x.view(b, n, heads, -1).transpose(1, 2)


def _merge_heads(x: torch.Tensor) -> torch.Tensor:
    b, h, n, d = x.shape
    return x.transpose(1, 2).reshape(b, n, h * d)


class Attention(nn.Module):
    """Multi-head attention with bias-free q/k/v projections and a biased output projection."""

    def __init__(self, dim: int, heads: int, head_dim: int, context_dim: int | None = None) -> None:
        super().__init__()
        inner = heads * head_dim
        self.heads = heads
        self.scale = head_dim**-0.5
        self.to_q = nn.Linear(dim, inner, bias=False)
        self.to_k = nn.Linear(context_dim or dim, inner, bias=False)
        self.to_v = nn.Linear(context_dim or dim, inner, bias=False)
        self.to_out = nn.Linear(inner, dim)
        self.materialise = False  # reference path for benchmarks: explicit softmax(QKᵀ)V

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None, capture: bool = False):
        """x: B×N×dim; context: B×M×context_dim (None: self-attention).

        Returns the output, and with ``capture`` also the head-averaged logits B×N×M.
        """
        ctx = x if context is None else context
        if context is not None and not (capture or self.materialise) and self._fold_pays(context.shape[1]):
            return self._folded(x, context)
        q = _split_heads(self.to_q(x), self.heads)
        k = _split_heads(self.to_k(ctx), self.heads)
        v = _split_heads(self.to_v(ctx), self.heads)
        logits = None
        if capture or self.materialise:
            scores = (q @ k.transpose(-1, -2)) * self.scale  # B×h×N×M
            out = scores.softmax(dim=-1) @ v
            if capture:
                logits = scores.mean(dim=1)
        else:
            out = F.scaled_dot_product_attention(q, k, v, scale=self.scale)
        out = self.to_out(_merge_heads(out))
        return (out, logits) if capture else out


    def _fold_pays(self, keys: int) -> bool:
        return self.heads * keys < self.to_q.out_features

    def _folded(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """Cross-attention to a few tokens with the projections folded into the keys and values.

        With M context tokens, QKᵀ = x·(W_q·Kᵀ) and softmax(·)·V·W_out = softmax(·)·(V·W_out) per head,
        so each pixel needs a dim×(heads·M) and a (heads·M)×dim product instead of two dim×inner
        ones. For 19 class tokens and 8 heads that is 152 columns instead of 512: same numbers,
        about a third of the work.
        """
        b, m, _ = context.shape
        h = self.heads
        d = self.to_q.out_features // h
        dim = x.shape[-1]
        k = self.to_k(context).view(b, m, h, d)
        v = self.to_v(context).view(b, m, h, d)
        w_q = self.to_q.weight.view(h, d, dim)
        w_out = self.to_out.weight.view(-1, h, d)  # out_dim × h × d
        keys = torch.einsum("hdc,bmhd->bchm", w_q, k).reshape(b, dim, h * m) * self.scale
        values = torch.einsum("bmhd,ohd->bhmo", v, w_out).reshape(b, h * m, -1)
        n = x.shape[1]
        weights = (x @ keys).view(b, n, h, m).softmax(dim=-1).view(b, n, h * m)
        return torch.baddbmm(self.to_out.bias.expand(b, n, -1), weights, values)


class GEGLUFeedForward(nn.Module):
    """Linear → split into value and gate → value·GELU(gate) → Linear."""

    def __init__(self, dim: int, mult: int = 4) -> None:
        super().__init__()
        hidden = dim * mult
        self.proj_in = nn.Linear(dim, hidden * 2)
        self.proj_out = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        value, gate = self.proj_in(x).chunk(2, dim=-1)
        return self.proj_out(value * F.gelu(gate))


class TransformerBlock(nn.Module):
    """Pre-norm block: [self-attention], cross-attention to style tokens, GEGLU feed-forward."""

    def __init__(self, dim: int, heads: int, head_dim: int, context_dim: int, self_attention: bool,
                 ff_mult: int = 4) -> None:
        super().__init__()
        self.self_attn = Attention(dim, heads, head_dim) if self_attention else None
        self.norm1 = nn.LayerNorm(dim) if self_attention else None
        self.cross_attn = Attention(dim, heads, head_dim, context_dim)
        self.norm2 = nn.LayerNorm(dim)
        self.ff = GEGLUFeedForward(dim, ff_mult)
        self.norm3 = nn.LayerNorm(dim)
        self.token_chunk = 2048  # inference only; 0 disables chunking

    def forward(self, x: torch.Tensor, context: torch.Tensor, capture: bool = False):
        if self.self_attn is not None:
            x = x + self.self_attn(self.norm1(x))
        if capture:
            attended, logits = self.cross_attn(self.norm2(x), context, capture=True)
            x = x + attended
            return x + self.ff(self.norm3(x)), logits
        if self.token_chunk and not torch.is_grad_enabled() and x.shape[1] > self.token_chunk:
            return self._per_token_chunked(x, context), None
        x = x + self.cross_attn(self.norm2(x), context)
        return x + self.ff(self.norm3(x)), None

    def _per_token_chunked(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        # Cross-attention (keys are the few class tokens) and the feed-forward act on each pixel
        # alone, so they can run over slices of pixels: the same numbers, but the 4×-wide hidden
        # activations of a 256² map stay in cache instead of costing hundreds of MB per pass.
        out = torch.empty_like(x)
        for i in range(0, x.shape[1], self.token_chunk):
            part = x[:, i : i + self.token_chunk]
            part = part + self.cross_attn(self.norm2(part), context)
            out[:, i : i + self.token_chunk] = part + self.ff(self.norm3(part))
        return out


class SpatialTransformer(nn.Module):
    """GroupNorm → 1×1 conv in → transformer block over pixels → zero-initialised 1×1 conv out → residual.

    The zero-initialised output makes the whole layer the identity at initialisation.
    """

    def __init__(self, channels: int, heads: int, head_dim: int, context_dim: int, self_attention: bool,
                 norm_groups: int = 32, ff_mult: int = 4) -> None:
        super().__init__()
        inner = heads * head_dim
        self.norm = nn.GroupNorm(norm_groups, channels, eps=1e-6)
        self.proj_in = nn.Conv2d(channels, inner, 1)
        self.block = TransformerBlock(inner, heads, head_dim, context_dim, self_attention, ff_mult)
        self.proj_out = nn.Conv2d(inner, channels, 1)
        nn.init.zeros_(self.proj_out.weight)
        nn.init.zeros_(self.proj_out.bias)
        self.gradient_checkpointing = False

    def forward(self, x: torch.Tensor, context: torch.Tensor, capture: bool = False):
        """x: B×C×H×W; context: B×K×D. Returns (output, capture or None)."""
        b, _, h, w = x.shape
        tokens = self.proj_in(self.norm(x)).flatten(2).transpose(1, 2)  # B×HW×inner
        if self.gradient_checkpointing and self.training and torch.is_grad_enabled():
            tokens, logits = torch.utils.checkpoint.checkpoint(
                self.block, tokens, context, capture, use_reentrant=False
            )
        else:
            tokens, logits = self.block(tokens, context, capture)
        out = self.proj_out(tokens.transpose(1, 2).reshape(b, -1, h, w))
        cap = None
        if logits is not None:
            cap = CrossAttentionCapture(logits.transpose(1, 2).reshape(b, -1, h, w))
        return x + out, cap
