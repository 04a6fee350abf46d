"""Exponential moving average of the generator's weights (optional, ``--ema``)."""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    """Keeps ``shadow``, a frozen copy of the model whose weights trail the live ones.

    Until ``start`` steps the shadow simply copies the model (early weights are not worth averaging);
    after that it is updated every ``every`` steps with ``beta`` raised to ``every`` so that the
    effective decay per step does not depend on the update interval. Buffers are copied as they are.
    """

    def __init__(self, model: nn.Module, beta: float = 0.9999, start: int = 100, every: int = 10) -> None:
        self.shadow = copy.deepcopy(model).eval()
        for p in self.shadow.parameters():
            p.requires_grad_(False)
        self.beta, self.start, self.every = beta, start, every

    @torch.no_grad()
    def update(self, model: nn.Module, step: int) -> None:
        if step % self.every:
            return
        decay = 0.0 if step < self.start else self.beta**self.every
        for s, p in zip(self.shadow.parameters(), model.parameters(), strict=True):
            s.lerp_(p.detach(), 1.0 - decay)
        for s, b in zip(self.shadow.buffers(), model.buffers(), strict=True):
            s.copy_(b)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.shadow.state_dict()

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.shadow.load_state_dict(state)


def start_share(beta: float, start: int, every: int, last_step: int) -> float:
    """The weight the shadow still gives, at ``last_step``, to the model as it was at ``start``.

    Each update after ``start`` keeps ``beta ** every`` of the shadow; updates come at the multiples of
    ``every`` from ``start`` on (the one at ``start`` itself averages the shadow with an equal model).
    """
    if last_step <= start:
        return 1.0
    first = -(-(start + 1) // every) * every  # the first update that can move the shadow
    updates = (last_step - first) // every + 1 if first <= last_step else 0
    return beta ** (every * updates)
