"""facexlib's networks (ParseNet, BiSeNet, RetinaFace ResNet-50) with our own weight handling.

facexlib's ``init_*`` helpers download into site-packages and unpickle with ``torch.load``'s
defaults; here the same network classes are built directly, their weights are fetched (with a
progress bar) into ``<user models>/facexlib/`` under facexlib's own file names, and loaded with
``weights_only=True``. Offline, a missing file raises :class:`WeightsMissingError` saying which URL
to fetch and where to put it.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ca2sis.paths import user_models_dir

if TYPE_CHECKING:  # torch is imported only when a network is actually built
    import torch
    from torch import nn

log = logging.getLogger(__name__)

_RELEASES = "https://github.com/xinntao/facexlib/releases/download"


@dataclass(frozen=True)
class FacexlibWeights:
    file: str
    url: str
    megabytes: int  # approximate, for messages


WEIGHTS = {
    "parsenet": FacexlibWeights("parsing_parsenet.pth", f"{_RELEASES}/v0.2.2/parsing_parsenet.pth", 85),
    "bisenet": FacexlibWeights("parsing_bisenet.pth", f"{_RELEASES}/v0.2.0/parsing_bisenet.pth", 51),
    "retinaface": FacexlibWeights(
        "detection_Resnet50_Final.pth", f"{_RELEASES}/v0.1.0/detection_Resnet50_Final.pth", 104
    ),
}

# BiSeNet (face-parsing.PyTorch order) index → CelebAMask-HQ id. Read as BISENET_TO_CELEBAMASK[b]
# = ours: BiSeNet's 2 is l_brow (ours 6), its 10 is nose (ours 2), its 17 is hair (ours 13), ...
BISENET_TO_CELEBAMASK = (0, 1, 6, 7, 4, 5, 3, 8, 9, 15, 2, 10, 11, 12, 17, 16, 18, 13, 14)


class WeightsMissingError(FileNotFoundError):
    """A weight file is not installed and could not be downloaded."""


def facexlib_dir() -> Path:
    return user_models_dir() / "facexlib"


def downloads_allowed() -> bool:
    return os.environ.get("CA2SIS_OFFLINE", "").lower() not in ("1", "true", "yes")


def missing_message(name: str, reason: str = "") -> str:
    w = WEIGHTS[name]
    why = f" ({reason})" if reason else ""
    return (
        f"{name}: {w.file} (~{w.megabytes} MB) is not installed and could not be downloaded{why}. "
        f"Download {w.url} and put it in {facexlib_dir()}/"
    )


def weight_status(name: str) -> str:
    """'ready' or the reason the weights are unavailable (without trying to download)."""
    if (facexlib_dir() / WEIGHTS[name].file).is_file():
        return "ready"
    w = WEIGHTS[name]
    if downloads_allowed():
        return f"downloads {w.file} (~{w.megabytes} MB) on first use into {facexlib_dir()}/ (or fetch {w.url})"
    return missing_message(name, "downloads are off: CA2SIS_OFFLINE is set")


def weight_path(name: str, download: bool = True) -> Path:
    """The local file for ``name``'s weights, downloading it first when allowed and needed."""
    w = WEIGHTS[name]
    path = facexlib_dir() / w.file
    if path.is_file():
        return path
    if not (download and downloads_allowed()):
        raise WeightsMissingError(missing_message(name, "downloads are off"))
    from torch.hub import download_url_to_file

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    log.info("downloading %s into %s", w.url, path.parent)
    try:
        download_url_to_file(w.url, str(tmp), progress=True)
    except Exception as exc:  # no network, proxy refusal, HTTP error: all mean "fetch it by hand"
        tmp.unlink(missing_ok=True)
        raise WeightsMissingError(missing_message(name, f"{type(exc).__name__}: {exc}")) from exc
    os.replace(tmp, path)
    return path


def load_state(path: Path) -> dict[str, torch.Tensor]:
    """A plain tensor state dict, refusing anything that would need unpickling code."""
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"{path}: not a loadable weight file ({exc})") from exc
    if isinstance(state, dict) and "params" in state and isinstance(state["params"], dict):
        state = state["params"]
    # Checkpoints saved from DataParallel prefix every key with "module.".
    return {k.removeprefix("module."): v for k, v in state.items()}


def build_network(name: str) -> nn.Module:
    """A facexlib network with random weights (its architecture only)."""
    if name == "parsenet":
        from facexlib.parsing.parsenet import ParseNet

        return ParseNet(in_size=512, out_size=512, parsing_ch=19)
    if name == "bisenet":
        from facexlib.parsing.bisenet import BiSeNet

        return BiSeNet(num_class=19)
    if name == "retinaface":
        from ca2sis.photo.detection.retinaface import build_network as build_retinaface

        return build_retinaface("resnet50")
    raise ValueError(f"unknown facexlib network {name!r}; known: {', '.join(WEIGHTS)}")


def load_network(name: str, device: str = "cpu", download: bool = True) -> nn.Module:
    path = weight_path(name, download)
    net = build_network(name)
    try:
        net.load_state_dict(load_state(path), strict=True)
    except RuntimeError as exc:
        raise ValueError(f"{path}: does not fit facexlib's {name} network ({str(exc)[:300]})") from exc
    return net.eval().to(device)
