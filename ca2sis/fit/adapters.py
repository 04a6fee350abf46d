"""The per-photo change of the generator: low-rank adapters on its convolutions and linear layers.

A layer with weight W (out × fan-in, a convolution's kernel flattened) gets ``W + up @ down`` with
``down`` r × fan-in and ``up`` out × r, plus a full bias delta. ``up`` starts at zero, so a fresh
adapter changes nothing. Tensors are named after the layer: ``<layer>.down``, ``<layer>.up``,
``<layer>.bias`` (e.g. ``stages.2.attn.block.ff.proj_in.down``).

Training works on a private fp32 copy of the generator whose weights are parametrised (the base
values stay frozen); rendering merges the deltas into another private copy, in the editor's
precision. The loaded model is never written to.
"""

from __future__ import annotations

import copy
import fnmatch
import hashlib
import math

import numpy as np
import torch
from torch import nn
from torch.nn.utils import parametrize

ADAPTED = (nn.Conv2d, nn.Linear)


def select_layers(generator: nn.Module, patterns: tuple[str, ...]) -> list[str]:
    """Names of the generator's convolutions and linear layers that match an fnmatch pattern and no
    ``!``-pattern (``("*", "!*.to_k")``: every layer but the keys)."""
    take = [p for p in patterns if not p.startswith("!")]
    drop = [p[1:] for p in patterns if p.startswith("!")]
    return [name for name, module in generator.named_modules()
            if isinstance(module, ADAPTED) and any(fnmatch.fnmatchcase(name, p) for p in take)
            and not any(fnmatch.fnmatchcase(name, p) for p in drop)]


def layer_rank(weight: torch.Tensor, rank: int) -> int:
    """The adapter's rank: the requested one, never more than the layer's own (beyond it adds nothing)."""
    return min(rank, weight.shape[0], weight[0].numel())


class _LowRankDelta(nn.Module):
    def __init__(self, weight: torch.Tensor, rank: int, generator: torch.Generator) -> None:
        super().__init__()
        fan_in = weight[0].numel()
        r = layer_rank(weight, rank)
        # ``down`` keeps unit-variance features (like a fresh linear layer); ``up`` at 0: no change yet.
        down = torch.randn(r, fan_in, generator=generator) / math.sqrt(fan_in)
        self.down = nn.Parameter(down.to(weight.device))
        self.up = nn.Parameter(torch.zeros(weight.shape[0], r, device=weight.device))

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        return weight + (self.up @ self.down).view_as(weight)


class _BiasDelta(nn.Module):
    def __init__(self, bias: torch.Tensor) -> None:
        super().__init__()
        self.delta = nn.Parameter(torch.zeros_like(bias))

    def forward(self, bias: torch.Tensor) -> torch.Tensor:
        return bias + self.delta


def trainable_copy(generator: nn.Module, layers: list[str], rank: int, seed: int) -> nn.Module:
    """An fp32 copy of ``generator`` with adapters on ``layers``; only the adapters require grad."""
    tuned = copy.deepcopy(generator).float().requires_grad_(False)
    tuned = tuned.to(memory_format=torch.contiguous_format)
    g = torch.Generator().manual_seed(int(seed))
    for name in layers:
        module = tuned.get_submodule(name)
        parametrize.register_parametrization(module, "weight", _LowRankDelta(module.weight, rank, g))
        if module.bias is not None:
            parametrize.register_parametrization(module, "bias", _BiasDelta(module.bias))
    return tuned


def adapter_parameters(tuned: nn.Module) -> list[nn.Parameter]:
    return [p for n, p in tuned.named_parameters() if not n.endswith(".original")]


def extract(tuned: nn.Module, layers: list[str]) -> dict[str, np.ndarray]:
    """The adapters of a trained copy as float32 arrays, named ``<layer>.down/.up/.bias``."""
    out: dict[str, np.ndarray] = {}
    for name in layers:
        plist = tuned.get_submodule(name).parametrizations
        delta = plist.weight[0]
        out[f"{name}.down"] = delta.down.detach().float().cpu().numpy()
        out[f"{name}.up"] = delta.up.detach().float().cpu().numpy()
        if "bias" in plist:
            out[f"{name}.bias"] = plist.bias[0].delta.detach().float().cpu().numpy()
    return out


def layers_of(adapters: dict[str, np.ndarray]) -> list[str]:
    return sorted({name.rsplit(".", 1)[0] for name in adapters})


def check_against(generator: nn.Module, adapters: dict[str, np.ndarray]) -> None:
    """Raise ``ValueError`` unless every adapter tensor fits a layer of ``generator``."""
    modules = dict(generator.named_modules())
    for name, array in adapters.items():
        layer, _, part = name.rpartition(".")
        module = modules.get(layer)
        if not isinstance(module, ADAPTED):
            raise ValueError(f"the fit adapts {layer!r}, which is not a layer of this generator")
        out, fan_in = module.weight.shape[0], module.weight[0].numel()
        if part == "down":
            ok = array.ndim == 2 and array.shape[1] == fan_in and 1 <= array.shape[0] <= min(out, fan_in)
        elif part == "up":
            down = adapters.get(f"{layer}.down")
            ok = array.ndim == 2 and array.shape[0] == out and down is not None and array.shape[1] == down.shape[0]
        elif part == "bias":
            ok = module.bias is not None and array.shape == (out,)
        else:
            ok = False
        if not ok:
            raise ValueError(f"the fit's tensor {name} has shape {array.shape}, which does not fit {layer}")
    for layer in layers_of(adapters):
        if f"{layer}.down" not in adapters or f"{layer}.up" not in adapters:
            raise ValueError(f"the fit's adapter of {layer} is incomplete")


@torch.no_grad()
def merged_copy(generator: nn.Module, adapters: dict[str, np.ndarray]) -> nn.Module:
    """A copy of ``generator`` (same device, dtype and memory layout) with the adapters added in."""
    merged = copy.deepcopy(generator)
    for layer in layers_of(adapters):
        module = merged.get_submodule(layer)
        w = module.weight
        up = torch.from_numpy(adapters[f"{layer}.up"]).to(w.device)
        down = torch.from_numpy(adapters[f"{layer}.down"]).to(w.device)
        new = (w.float() + (up @ down).view_as(w)).to(w.dtype)
        w.copy_(new)  # copy_ keeps the copy's memory format (channels-last on the CPU)
        if f"{layer}.bias" in adapters:
            b = module.bias
            b.copy_((b.float() + torch.from_numpy(adapters[f"{layer}.bias"]).to(b.device)).to(b.dtype))
    return merged


def fingerprint(model: nn.Module, config_json: str) -> str:
    """A short identity of a model's generator: its config and (a fixed sample of) its weights.

    Large tensors contribute a strided sample of about 2¹⁶ values, so hashing the authors'
    27 M-parameter generator costs milliseconds; any retraining changes every weight. No sums: a
    reduction's rounding may differ between machines, the sampled values do not.
    """
    h = hashlib.blake2b(digest_size=10)
    h.update(config_json.encode())
    for name, t in sorted(model.state_dict().items()):
        if not name.startswith("generator."):
            continue
        flat = t.detach().reshape(-1)
        step = max(1, flat.numel() // 65536)
        sample = flat[::step].float().cpu().numpy()
        h.update(name.encode())
        h.update(str(tuple(t.shape)).encode())
        h.update(sample.astype("<f4").tobytes())
    return h.hexdigest()
