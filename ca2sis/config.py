"""Typed model configuration and the named presets.

A :class:`ModelConfig` is saved inside every checkpoint we write, so a weights file rebuilds its own
model without any command-line state. ``celebamask-256`` is the authors' CelebAMask-HQ generator,
layer for layer; ``demo-128`` is a smaller model that can be trained on a CPU in hours; ``tiny`` is for
tests.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

# What a configuration may ask for, checked before anything is built: a config read from a file is
# untrusted input, and one number (a width of 10⁶) would otherwise try to allocate tens of GB. The
# ranges are generous (the presets use a fraction of each); the parameter count of the whole model is
# capped as well, in ca2sis.checkpoint.
INT_RANGES: dict[str, tuple[int, int]] = {
    "num_classes": (2, 512),
    "resolution": (8, 2048),
    "mask_size": (4, 1024),
    "token_grid": (2, 64),
    "style_width": (1, 64),
    "style_downsamples": (1, 10),
    "style_scales": (1, 9),
    "style_dim": (1, 4096),
    "base_channels": (1, 8192),
    "norm_groups": (1, 1024),
    "ff_mult": (1, 16),
    "mapping_dim": (1, 4096),
    "mapping_hidden": (1, 16384),
    "mapping_layers": (1, 16),
}
STAGE_RANGES: dict[str, tuple[int, int]] = {"channels": (1, 8192), "heads": (1, 64), "head_dim": (1, 1024)}
MAX_STAGES = 12
MAX_SELF_ATTENTION_TOKENS = 128 * 128  # self-attention is quadratic in the pixels of its stage


def _check_fields(owner: str, obj: object, ints: dict[str, tuple[int, int]], bools: tuple[str, ...]) -> None:
    for name, (lo, hi) in ints.items():
        value = getattr(obj, name)
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{owner}: {name} must be a whole number, got {value!r}")
        if not lo <= value <= hi:
            raise ValueError(f"{owner}: {name} = {value} is outside {lo}..{hi}")
    for name in bools:
        if not isinstance(getattr(obj, name), bool):
            raise ValueError(f"{owner}: {name} must be true or false, got {getattr(obj, name)!r}")


@dataclass(frozen=True)
class StageConfig:
    """One generator stage: a residual block, then a spatial transformer at the block's resolution."""

    channels: int  # output channels of the residual block
    upsample: bool  # ×2 nearest upsampling inside the residual block
    heads: int  # attention heads of the transformer
    head_dim: int  # channels per head; heads × head_dim is the transformer's inner width
    self_attention: bool  # global self-attention over pixels (quadratic: off at high resolution)

    def __post_init__(self) -> None:
        _check_fields("generator stage", self, STAGE_RANGES, ("upsample", "self_attention"))

    @property
    def inner(self) -> int:
        return self.heads * self.head_dim


@dataclass(frozen=True)
class ModelConfig:
    name: str
    num_classes: int = 19
    resolution: int = 256
    exclude_background: bool = True  # class 0 gets no shape code (the authors' CelebAMask-HQ setting)
    # Mask embedder: every class channel is resized to mask_size² and mapped by ONE shared linear
    # layer to token_grid² values, later viewed as a token_grid × token_grid map.
    mask_size: int = 128
    token_grid: int = 16
    # Style encoder: grouped (one group per class) encoder/decoder; widths are num_classes·style_width·2^i.
    style_width: int = 4
    style_downsamples: int = 6
    style_scales: int = 5  # decoder layers, one style code per layer
    style_dim: int = 256  # per scale; a class's style token is style_scales·style_dim long
    # Generator
    base_channels: int = 512
    stages: tuple[StageConfig, ...] = ()
    norm_groups: int = 32
    ff_mult: int = 4
    # Mapping network (random styles)
    mapping_dim: int = 16
    mapping_hidden: int = 512
    mapping_layers: int = 4  # in the shared trunk and again in every per-class head

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not 0 < len(self.name) <= 128:
            raise ValueError(f"a model config's name must be a short text, got {self.name!r}")
        _check_fields(f"config {self.name!r}", self, INT_RANGES, ("exclude_background",))
        if not isinstance(self.stages, tuple) or not all(isinstance(s, StageConfig) for s in self.stages):
            raise ValueError(f"config {self.name!r}: stages must be a list of generator stages")
        if not self.stages:
            raise ValueError("a model needs at least one generator stage")
        if len(self.stages) > MAX_STAGES:
            raise ValueError(f"config {self.name!r}: {len(self.stages)} generator stages; at most {MAX_STAGES}")
        side = self.token_grid
        for stage in self.stages:
            side *= 2 if stage.upsample else 1
            if stage.self_attention and side * side > MAX_SELF_ATTENTION_TOKENS:
                raise ValueError(f"config {self.name!r}: self-attention at {side}² pixels would need "
                                 f"{side**4:,} scores per head; at most {MAX_SELF_ATTENTION_TOKENS:,} pixels")
        out = self.token_grid * 2 ** sum(s.upsample for s in self.stages)
        if out != self.resolution:
            raise ValueError(
                f"config {self.name!r}: stages take the {self.token_grid}² token grid to {out}², "
                f"but resolution is {self.resolution}"
            )
        if self.style_scales >= self.style_downsamples:
            raise ValueError("the style encoder needs more downsampling than upsampling layers")
        if self.resolution % 2**self.style_downsamples:
            raise ValueError(f"resolution {self.resolution} is not divisible by 2^{self.style_downsamples}")
        if self.num_classes < 2:
            raise ValueError("a label set needs at least two classes")

    @property
    def context_dim(self) -> int:
        """Length of one class's style token."""
        return self.style_scales * self.style_dim

    @property
    def shape_classes(self) -> int:
        """Number of classes that get a shape code."""
        return self.num_classes - 1 if self.exclude_background else self.num_classes

    @property
    def token_dim(self) -> int:
        return self.token_grid**2

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @staticmethod
    def from_dict(data: dict[str, Any]) -> ModelConfig:
        """A validated config from plain data (a file's JSON): every field's type and range is checked."""
        if not isinstance(data, dict):
            raise ValueError(f"a model config must be an object, got {type(data).__name__}")
        data = dict(data)
        known = {f.name for f in dataclasses.fields(ModelConfig)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown model config fields: {', '.join(sorted(map(str, unknown)))}")
        stages = data.get("stages", ())
        if not isinstance(stages, list | tuple) or len(stages) > MAX_STAGES:
            raise ValueError(f"a model config's stages must be a list of at most {MAX_STAGES}")
        stage_fields = {f.name for f in dataclasses.fields(StageConfig)}
        for s in stages:
            if not isinstance(s, dict) or set(s) != stage_fields:
                raise ValueError(f"a generator stage must have exactly the fields {', '.join(sorted(stage_fields))}")
        data["stages"] = tuple(StageConfig(**s) for s in stages)
        if "name" not in data:
            raise ValueError("a model config needs a name")
        return ModelConfig(**data)

    @staticmethod
    def from_json(text: str) -> ModelConfig:
        try:
            data = json.loads(text, parse_constant=_no_constant)
        except RecursionError:
            raise ValueError("the model config is nested too deeply to be a model config") from None
        return ModelConfig.from_dict(data)

    def replace(self, **changes: Any) -> ModelConfig:
        return dataclasses.replace(self, **changes)


def _no_constant(name: str) -> Any:
    raise ValueError(f"a model config holds {name}, which is not a number")


def _celebamask_256() -> ModelConfig:
    return ModelConfig(
        name="celebamask-256",
        stages=(
            StageConfig(256, False, 8, 64, True),  # 16²
            StageConfig(128, True, 8, 64, True),  # 32²
            StageConfig(64, True, 8, 64, True),  # 64²
            StageConfig(32, True, 8, 64, False),  # 128²
            StageConfig(32, True, 4, 32, False),  # 256²
        ),
    )


def _demo_128() -> ModelConfig:
    # Same design at 128² with narrower layers: about a tenth of the authors' FLOPs, trainable on a CPU.
    return ModelConfig(
        name="demo-128",
        resolution=128,
        mask_size=64,
        token_grid=16,
        style_width=2,
        style_downsamples=5,
        style_scales=4,
        style_dim=64,
        base_channels=256,
        stages=(
            StageConfig(128, False, 4, 32, True),  # 16²
            StageConfig(64, True, 4, 32, True),  # 32²
            StageConfig(32, True, 4, 32, False),  # 64²
            StageConfig(32, True, 2, 32, False),  # 128²
        ),
        mapping_hidden=256,
    )


def _tiny() -> ModelConfig:
    return ModelConfig(
        name="tiny",
        resolution=32,
        mask_size=16,
        token_grid=4,
        style_width=1,
        style_downsamples=4,
        style_scales=3,
        style_dim=8,
        base_channels=32,
        stages=(
            StageConfig(16, False, 2, 8, True),
            StageConfig(16, True, 2, 8, True),
            StageConfig(8, True, 2, 4, False),
            StageConfig(8, True, 1, 8, False),
        ),
        norm_groups=4,
        mapping_hidden=32,
    )


PRESETS = {"celebamask-256": _celebamask_256, "demo-128": _demo_128, "tiny": _tiny}


def preset(name: str, **overrides: Any) -> ModelConfig:
    """A named preset, optionally with fields replaced (for example ``num_classes=151``)."""
    try:
        config = PRESETS[name]()
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}") from None
    return config.replace(**overrides) if overrides else config


__all__ = ["ModelConfig", "StageConfig", "PRESETS", "preset"]
