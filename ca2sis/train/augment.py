"""Differentiable augmentation of everything the discriminator sees (DiffAugment, Zhao et al. 2020).

With a few thousand training pairs D memorises the real images and stops teaching G. Transforming
real and generated images alike, by differentiable operations, before every D pass (in G's step too,
so G's gradient flows back through the transform) removes that shortcut without leaking the
augmentation into what G learns to draw.

Three transform families, applied in this order when named in the policy:

- ``color``: brightness (+U[-0.5, 0.5]), saturation (×U[0, 2] around each pixel's grey), contrast
  (×U[0.5, 1.5] around the image mean), on images in [-1, 1];
- ``translation``: an integer shift of up to 1/8 of the side in x and y, zero-filled;
- ``cutout``: a zeroed square of half the side at a random place.

D is conditioned on the layout, so the geometric families move (and cut) the one-hot mask with the
image; colour touches the image only. In one D pass the n-th generated image and the n-th real image
(and their shared mask) get the same draw, so that feature matching compares like with like.

Draws come from the object's own CPU random stream (one draw per sample and family, in a fixed
order), which checkpoints save and restore: a resumed run sees the same augmentations.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ca2sis.train.config import parse_policy


def _shift(x: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor, pad: int) -> torch.Tensor:
    """Move each sample by (dy, dx) whole pixels (|d| ≤ pad), filling with zeros; differentiable in x."""
    n, c, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad))
    rows = (torch.arange(h, device=x.device)[None] + pad - dy[:, None]).view(n, 1, h, 1).expand(n, c, h, w + 2 * pad)
    x = padded.gather(2, rows)
    cols = (torch.arange(w, device=x.device)[None] + pad - dx[:, None]).view(n, 1, 1, w).expand(n, c, h, w)
    return x.gather(3, cols)


class DiffAugment:
    """The run's augmentation: ``augment(images, onehot, repeats)`` transforms a D batch.

    ``repeats`` says how many stacked copies of the same N samples the batch holds (2 for
    ``cat([fake, real])``): draws are made for N samples and shared by the copies.
    """

    def __init__(self, policy: str, seed: int = 0, translation: float = 0.125, cutout: float = 0.5) -> None:
        self.families = parse_policy(policy)
        self.translation, self.cutout = translation, cutout
        self.generator = torch.Generator(device="cpu").manual_seed(seed)

    @property
    def enabled(self) -> bool:
        return bool(self.families)

    @property
    def policy(self) -> str:
        return ",".join(self.families) if self.families else "off"

    def _uniform(self, n: int) -> torch.Tensor:
        return torch.rand(n, generator=self.generator)

    def _int(self, low: int, high: int, n: int) -> torch.Tensor:
        return torch.randint(low, high + 1, (n,), generator=self.generator)

    def __call__(
        self, images: torch.Tensor, onehot: torch.Tensor, repeats: int = 1
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.families:
            return images, onehot
        total, _, h, w = images.shape
        if total % repeats or onehot.shape[0] != total or tuple(onehot.shape[-2:]) != (h, w):
            raise ValueError(f"images {tuple(images.shape)} and masks {tuple(onehot.shape)} do not pair up "
                             f"in {repeats} copies")
        n = total // repeats

        def per_sample(t: torch.Tensor) -> torch.Tensor:  # N draws → one per row of the stacked batch
            return t.repeat(repeats).to(images.device)

        if "color" in self.families:
            brightness = per_sample(self._uniform(n) - 0.5).to(images.dtype).view(-1, 1, 1, 1)
            saturation = per_sample(self._uniform(n) * 2).to(images.dtype).view(-1, 1, 1, 1)
            contrast = per_sample(self._uniform(n) + 0.5).to(images.dtype).view(-1, 1, 1, 1)
            images = images + brightness
            grey = images.mean(dim=1, keepdim=True)
            images = (images - grey) * saturation + grey
            mean = images.mean(dim=(1, 2, 3), keepdim=True)
            images = (images - mean) * contrast + mean
        if "translation" in self.families:
            pad = int(round(min(h, w) * self.translation))
            if pad:
                dy, dx = per_sample(self._int(-pad, pad, n)), per_sample(self._int(-pad, pad, n))
                images, onehot = _shift(images, dy, dx, pad), _shift(onehot, dy, dx, pad)
        if "cutout" in self.families:
            ch, cw = max(1, int(h * self.cutout + 0.5)), max(1, int(w * self.cutout + 0.5))
            # The square's centre anywhere in the image (the square may hang over an edge), as in the paper.
            cy = per_sample(self._int(0, h + (1 - ch % 2) - 1, n))
            cx = per_sample(self._int(0, w + (1 - cw % 2) - 1, n))
            ys = torch.arange(h, device=images.device).view(1, h, 1)
            xs = torch.arange(w, device=images.device).view(1, 1, w)
            top, left = (cy - ch // 2).view(-1, 1, 1), (cx - cw // 2).view(-1, 1, 1)
            inside = (ys >= top) & (ys < top + ch) & (xs >= left) & (xs < left + cw)
            keep = (~inside)[:, None]
            images = images * keep.to(images.dtype)
            onehot = onehot * keep.to(onehot.dtype)
        return images, onehot

    def state(self) -> torch.Tensor:
        return self.generator.get_state()

    def set_state(self, state: torch.Tensor) -> None:
        self.generator.set_state(state)
