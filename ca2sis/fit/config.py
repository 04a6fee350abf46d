"""How a fit to one photo is run: a typed configuration and the editor's default.

A fit has two phases over ``steps`` optimisation steps in all: first the photo's style codes may be
optimised with the generator frozen (the *pivot*; by default the style encoder's codes are the pivot),
then low-rank adapters on the generator's convolutions and linear layers are tuned with the pivot
frozen. See :mod:`ca2sis.fit.loop`; the default was chosen by measurement (docs/fit.md).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FitConfig:
    steps: int = 48  # optimisation steps in all, both phases together
    # Share of the steps spent on the style codes alone. 0: the style encoder's codes are the pivot. On
    # demo-128 an optimised pivot cost editability (a hair swap kept about half its strength, against
    # 0.8–1.0 without) for no PSNR gain at the same step count: see docs/fit.md.
    pivot_share: float = 0.0
    rank: int = 16  # rank of each low-rank adapter (clamped to the layer's own rank)
    layers: tuple[str, ...] = ("*",)  # fnmatch patterns of generator layers that get adapters; "!…" excludes
    lr_style: float = 0.03  # Adam, on the style codes during the pivot phase
    lr_adapter: float = 0.004  # Adam, on the adapters (with a cosine decay to a tenth)
    pixel_weight: float = 1.0  # L1 on [-1, 1] images
    perceptual_weight: float = 0.1  # the project's offline InceptionV3 features; 0 turns it off
    attention_weight: float = 0.0  # the model's attention loss on the photo's mask; 0 turns it off
    locality_weight: float = 1.0  # keep what an edit changes as the base generator changes it; 0 turns it off
    locality_every: int = 2  # the locality term on every k-th step (weighted ×k): it costs a second render
    locality_edits: int = 8  # style and shape edits in the locality pool
    locality_spread: float = 1.5  # mapping-network styles for the pool, pushed this far from their mean
    seed: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.steps, bool) or not isinstance(self.steps, int):
            raise TypeError(f"fit steps must be an integer, got {self.steps!r}")
        if self.steps < 1:
            raise ValueError(f"a fit needs at least 1 optimisation step, got {self.steps}")
        if not 0.0 <= self.pivot_share < 1.0:
            raise ValueError(f"pivot_share must be in [0, 1), got {self.pivot_share}")
        if self.rank < 1:
            raise ValueError(f"adapter rank must be at least 1, got {self.rank}")
        if not self.layers:
            raise ValueError("a fit needs at least one layer pattern for its adapters")
        for name in ("lr_style", "lr_adapter"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        for name in ("pixel_weight", "perceptual_weight", "attention_weight", "locality_weight"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)}")
        if self.locality_spread <= 0:
            raise ValueError(f"locality_spread must be positive, got {self.locality_spread}")
        if self.locality_every < 1:
            raise ValueError(f"locality_every must be at least 1, got {self.locality_every}")
        if self.locality_edits < 1:
            raise ValueError(f"locality_edits must be at least 1, got {self.locality_edits}")

    @property
    def pivot_steps(self) -> int:
        """Steps of the style-code phase; the rest tune the adapters (at least one step)."""
        return min(self.steps - 1, round(self.steps * self.pivot_share))

    @property
    def tune_steps(self) -> int:
        return self.steps - self.pivot_steps

    def replace(self, **changes: Any) -> FitConfig:
        return dataclasses.replace(self, **changes)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @staticmethod
    def from_json(text: str) -> FitConfig:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("a fit configuration must be a JSON object")
        known = {f.name for f in dataclasses.fields(FitConfig)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fit configuration fields: {', '.join(sorted(unknown))}")
        if "layers" in data:
            data["layers"] = tuple(data["layers"])
        return FitConfig(**data)


DEFAULT = FitConfig()


def default_config(steps: int | None = None, seed: int | None = None) -> FitConfig:
    """The editor's default fit, optionally with another number of steps in all or another seed."""
    changes: dict[str, Any] = {}
    if steps is not None:
        changes["steps"] = steps
    if seed is not None:
        changes["seed"] = seed
    return DEFAULT.replace(**changes) if changes else DEFAULT
