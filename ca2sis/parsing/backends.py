"""The parser back ends: the bundled net and facexlib's ParseNet / BiSeNet.

All take an aligned face (H×W×3 uint8 RGB, CelebA-HQ framing, any square size) and return a cleaned
H×W uint8 CelebAMask-HQ mask. Each applies its own model's input normalisation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ca2sis.classes import CELEBAMASK_HQ
from ca2sis.parsing import BUNDLED_FILE
from ca2sis.parsing.cleanup import clean_mask
from ca2sis.parsing.ensemble import mirror_averaged, mirror_members_of
from ca2sis.parsing.facexlib_models import BISENET_TO_CELEBAMASK, load_network
from ca2sis.parsing.network import load_parser_net, normalise
from ca2sis.paths import find_weight_file


def _check_rgb(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"a parser takes an H×W×3 uint8 RGB face, got {rgb.shape} {rgb.dtype}")
    if min(rgb.shape[:2]) < 16:
        raise ValueError(f"face crop {rgb.shape[1]}×{rgb.shape[0]} is too small to parse")
    return rgb


def _to_tensor(rgb: np.ndarray, size: int, device: str) -> torch.Tensor:
    """uint8 H×W×3 → 1×3×size×size float in [0, 1] (antialiased when shrinking)."""
    x = torch.from_numpy(np.array(rgb, dtype=np.uint8)).permute(2, 0, 1)[None].float().div_(255.0)
    if x.shape[-2:] != (size, size):
        x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return x.to(device)


class BundledParser:
    """The small parser trained by ``main.py train parser``; ships with the project."""

    name = "bundled"

    def __init__(
        self, path: str | Path | None = None, device: str = "cpu", clean: bool = True, flip_tta: bool | None = None
    ) -> None:
        if path is None:
            path = find_weight_file(BUNDLED_FILE)
            if path is None:
                raise FileNotFoundError(
                    f"the bundled parser's weights ({BUNDLED_FILE}) are missing from the models folder; "
                    "reinstall, or train them with `python main.py train parser --data FOLDER`"
                )
        self.path = Path(path)
        self.net, self.meta = load_parser_net(self.path)
        self.net = self.net.to(device).to(memory_format=torch.channels_last)
        self.device = device
        self.clean = clean
        # Also parse the mirrored face and average the two (about +1 point mIoU for twice the net's
        # time). A file says whether its net is fast enough for that (metadata "flip_tta"; default yes).
        self.flip_tta = self.meta.get("flip_tta", "true") == "true" if flip_tta is None else flip_tta
        # An ensemble file may instead name the members whose mirror averaging is nearly free
        # (metadata "mirror_members", a JSON list of member indices).
        self.mirror_members = mirror_members_of(self.net, self.meta, self.path)
        self._flip = torch.from_numpy(CELEBAMASK_HQ.flip_lut().astype(np.int64))

    def _logits(self, x: torch.Tensor) -> torch.Tensor:
        x = normalise(x).contiguous(memory_format=torch.channels_last)
        if self.flip_tta:
            logits = mirror_averaged(lambda t: self.net(t).float(), x, self._flip)
        elif self.mirror_members:
            logits = self.net(x, mirrored=self.mirror_members, flip_lut=self._flip)
        else:
            logits = self.net(x).float()
        # Upsampling to 512² and the argmax run about 2.5× faster on a CPU on channels-last logits.
        return logits.contiguous(memory_format=torch.channels_last)

    @torch.no_grad()
    def probabilities(self, rgb: np.ndarray, out_size: int | None = None) -> torch.Tensor:
        """1×C×S×S class probabilities for a square crop (S = ``out_size`` or the crop's side)."""
        rgb = _check_rgb(rgb)
        logits = self._logits(_to_tensor(rgb, self.net.config.input_size, self.device))
        size = out_size or rgb.shape[0]
        logits = F.interpolate(logits, size=(size, size), mode="bilinear", align_corners=False)
        return logits.softmax(1).cpu()

    def parse(self, aligned_rgb: np.ndarray) -> np.ndarray:
        rgb = _check_rgb(aligned_rgb)
        h, w = rgb.shape[:2]
        with torch.no_grad():
            logits = self._logits(_to_tensor(rgb, self.net.config.input_size, self.device))
            # Upsample scores, not labels: bilinear logits give smooth part boundaries at full size.
            logits = F.interpolate(logits, size=(h, w), mode="bilinear", align_corners=False)
            mask = logits.argmax(1)[0].to(torch.uint8).cpu().numpy()
        return clean_mask(mask) if self.clean else mask


class FacexlibParser:
    """facexlib's ParseNet (CelebAMask-HQ order, inputs in [-1, 1]) or BiSeNet (its own class order,
    ImageNet-normalised inputs); both see the face at 512²."""

    def __init__(self, kind: str, device: str = "cpu", clean: bool = True, download: bool = True) -> None:
        if kind not in ("parsenet", "bisenet"):
            raise ValueError(f"unknown facexlib parser {kind!r}; use 'parsenet' or 'bisenet'")
        self.name = kind
        self.net = load_network(kind, device, download)
        self.device = device
        self.clean = clean
        self._lut = np.array(BISENET_TO_CELEBAMASK, dtype=np.uint8)

    @torch.no_grad()
    def raw_labels(self, rgb: np.ndarray) -> np.ndarray:
        """512×512 labels in the network's own class order."""
        x = _to_tensor(_check_rgb(rgb), 512, self.device)
        # ParseNet returns (mask logits, reconstructed image); BiSeNet (logits, two auxiliary heads).
        out = self.net((x - 0.5) / 0.5)[0] if self.name == "parsenet" else self.net(normalise(x))[0]
        return out.argmax(1)[0].to(torch.uint8).cpu().numpy()

    def parse(self, aligned_rgb: np.ndarray) -> np.ndarray:
        rgb = _check_rgb(aligned_rgb)
        labels = self.raw_labels(rgb)
        if self.name == "bisenet":
            labels = self._lut[labels]
        h, w = rgb.shape[:2]
        if (h, w) != labels.shape:
            import cv2

            labels = cv2.resize(labels, (w, h), interpolation=cv2.INTER_NEAREST)
        return clean_mask(labels) if self.clean else labels
