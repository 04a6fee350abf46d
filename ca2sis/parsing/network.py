"""The bundled face parser: a small encoder-decoder built from depthwise-separable blocks.

It sees the face at ``config.input_size`` (256² by default, a quarter of the pixels of a 512² crop)
and predicts logits at ``input_size / output_stride``; the caller upsamples the logits, which keeps
thin parts (lips, brows) smooth at 512² while costing a fraction of a full-resolution net. With
``output_stride=1`` a last, narrow decoder step mixes in features taken at the input's own
resolution, so eyes, brows and earrings keep their outline.

Two encoders feed the same decoder: ``mobile`` (MobileNetV2-style blocks, trained from scratch, the
first bundled parser's) and ``inception`` (the stem and first inception blocks of an ImageNet
InceptionV3, :mod:`ca2sis.parsing.inception`), whose pretrained features know backgrounds, hands
and clothes that 780 labelled faces never showed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

if TYPE_CHECKING:
    from ca2sis.parsing.ensemble import ParserEnsemble

# ImageNet statistics: they keep inputs near zero mean (the inception encoder maps them back itself).
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class ParserNetConfig:
    num_classes: int = 19
    input_size: int = 256  # side the face is resized to before the net
    widths: tuple[int, ...] = (16, 32, 64, 96, 128)  # stem, then one stage per stride 4, 8, 16, 32
    depths: tuple[int, ...] = (1, 2, 3, 3)  # inverted-residual blocks per stage
    expand: int = 4  # inverted-residual expansion ratio
    decoder_width: int = 48
    output_stride: int = 2  # 2: logits at half the input side; 1: one more decoder step, full side
    # "mobile": widths/depths/expand build the encoder. "inception": ImageNet InceptionV3's stem and
    # first ``inception_blocks`` blocks (3: down to stride 8, 4: stride 16); widths/depths unused.
    encoder: str = "mobile"
    inception_blocks: int = 3

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @staticmethod
    def from_json(text: str) -> ParserNetConfig:
        raw = json.loads(text)  # files written before a field existed get its default
        for key in ("widths", "depths"):
            raw[key] = tuple(raw[key])
        return ParserNetConfig(**raw)


def _conv_bn(cin: int, cout: int, k: int = 3, stride: int = 1, groups: int = 1, dilation: int = 1) -> nn.Sequential:
    pad = dilation * (k // 2)
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride, pad, dilation=dilation, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1×1 expand, 3×3 depthwise, 1×1 project (linear), residual when shapes match."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int, dilation: int = 1) -> None:
        super().__init__()
        hidden = cin * expand
        self.use_residual = stride == 1 and cin == cout
        self.body = nn.Sequential(
            _conv_bn(cin, hidden, 1),
            _conv_bn(hidden, hidden, 3, stride, groups=hidden, dilation=dilation),
            nn.Conv2d(hidden, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.use_residual else y


class _Fuse(nn.Module):
    """Upsample the coarse features to the skip's size, concatenate, mix with a separable conv."""

    def __init__(self, coarse: int, skip: int, out: int) -> None:
        super().__init__()
        self.reduce = _conv_bn(coarse + skip, out, 1)
        self.mix = nn.Sequential(_conv_bn(out, out, 3, groups=out), _conv_bn(out, out, 1))

    def forward(self, coarse: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        up = F.interpolate(coarse, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.mix(self.reduce(torch.cat([up, skip], dim=1)))


class _FullResStep(nn.Module):
    """The stride-1 decoder step, kept narrow because it runs on every input pixel: the coarse
    features are projected down *before* upsampling and added to a shallow conv of the input."""

    def __init__(self, coarse: int, out: int) -> None:
        super().__init__()
        self.project = nn.Sequential(nn.Conv2d(coarse, out, 1, bias=False), nn.BatchNorm2d(out))
        self.detail = nn.Sequential(nn.Conv2d(3, out, 3, 1, 1, bias=False), nn.BatchNorm2d(out))
        self.mix = nn.Sequential(nn.ReLU(inplace=True), _conv_bn(out, out, 3, groups=out))

    def forward(self, coarse: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        up = F.interpolate(self.project(coarse), size=image.shape[-2:], mode="bilinear", align_corners=False)
        return self.mix(up + self.detail(image))


class FaceParserNet(nn.Module):
    """Input: N×3×S×S normalised RGB. Output: N×C×(S/output_stride)² logits."""

    def __init__(self, config: ParserNetConfig | None = None) -> None:
        super().__init__()
        self.config = cfg = config or ParserNetConfig()
        if cfg.encoder == "mobile":
            w = channels = cfg.widths
            self.stem = _conv_bn(3, w[0], 3, 2)  # stride 2
            stages = []
            cin = w[0]
            for i, (cout, depth) in enumerate(zip(w[1:], cfg.depths, strict=True)):
                # The deepest stage uses dilation instead of more stride-free depth to widen its view.
                dil = 2 if i == len(cfg.depths) - 1 else 1
                blocks = [InvertedResidual(cin, cout, 2, cfg.expand)]
                blocks += [InvertedResidual(cout, cout, 1, cfg.expand, dilation=dil) for _ in range(depth - 1)]
                stages.append(nn.Sequential(*blocks))
                cin = cout
            self.stages = nn.ModuleList(stages)
            self.encoder = None
        elif cfg.encoder == "inception":
            from ca2sis.parsing.inception import InceptionEncoder

            self.encoder = InceptionEncoder(cfg.inception_blocks, MEAN, STD)
            channels = self.encoder.channels
        else:
            raise ValueError(f"unknown parser encoder {cfg.encoder!r}; choose 'mobile' or 'inception'")
        # Global context: the whole face's average tells each pixel which face it is looking at.
        self.context = _conv_bn(channels[-1], channels[-1], 1)
        d = cfg.decoder_width
        # From the deepest features up to stride 2, one fuse step per skip connection.
        ins = (channels[-1],) + (d,) * (len(channels) - 2)
        self.fuse = nn.ModuleList(_Fuse(c, skip, d) for c, skip in zip(ins, reversed(channels[:-1]), strict=True))
        head_in = d
        if cfg.output_stride == 1:
            head_in = max(8, d // 3)
            self.full = _FullResStep(d, head_in)
        elif cfg.output_stride != 2:
            raise ValueError(f"output_stride must be 1 or 2, not {cfg.output_stride}")
        self.head = nn.Conv2d(head_in, cfg.num_classes, 1)

    def encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Feature maps from stride 2 down to the deepest."""
        if self.encoder is not None:
            return self.encoder(x)
        feats = [self.stem(x)]
        for stage in self.stages:
            feats.append(stage(feats[-1]))
        return feats

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = self.encode(x)
        top = feats[-1]
        y = top + self.context(top.mean(dim=(2, 3), keepdim=True))
        for fuse, skip in zip(self.fuse, reversed(feats[:-1]), strict=True):
            y = fuse(y, skip)
        if self.config.output_stride == 1:
            y = self.full(y, x)
        return self.head(y)


def normalise(rgb: torch.Tensor) -> torch.Tensor:
    """N×3×H×W float in [0, 1] → the net's input scale."""
    mean = torch.tensor(MEAN, dtype=rgb.dtype, device=rgb.device).view(1, 3, 1, 1)
    std = torch.tensor(STD, dtype=rgb.dtype, device=rgb.device).view(1, 3, 1, 1)
    return (rgb - mean) / std


def write_parser_file(path: str | Path, net: nn.Module, meta: dict[str, str]) -> None:
    """A net's weights as safetensors with ``meta`` in the metadata (atomic write)."""
    from safetensors.torch import save_file

    from ca2sis.atomic import atomic_write

    state = {k: v.detach().contiguous().cpu() for k, v in net.state_dict().items()}
    atomic_write(path, lambda tmp: save_file(state, str(tmp), metadata=meta), fsync=False)


def save_parser_net(path: str | Path, net: FaceParserNet, extra: dict[str, str] | None = None) -> None:
    """Weights as safetensors with the architecture config in the metadata (atomic write)."""
    write_parser_file(path, net, {"config": net.config.to_json(), "format": "ca2sis-face-parser-1", **(extra or {})})


def load_parser_net(path: str | Path) -> tuple[FaceParserNet | ParserEnsemble, dict[str, str]]:
    """A parser file's net (or ensemble of nets, :mod:`ca2sis.parsing.ensemble`) and its metadata."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(path)
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
    from ca2sis.parsing.ensemble import ENSEMBLE_FORMAT, ensemble_from_file

    if meta.get("format") == ENSEMBLE_FORMAT:
        return ensemble_from_file(path, meta), meta
    if "config" not in meta:
        raise ValueError(f"{path}: not a CA2SIS face-parser file (no 'config' in its metadata)")
    net = FaceParserNet(ParserNetConfig.from_json(meta["config"]))
    net.load_state_dict(load_file(str(path)))
    return net.eval(), meta
