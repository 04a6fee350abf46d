"""torch.distributed plumbing: process group set-up from torchrun's environment, data sharding.

One process per device. torchrun sets RANK / WORLD_SIZE / LOCAL_RANK; without them the run is a
single process and nothing here touches torch.distributed. NCCL is used on GPUs, gloo on CPUs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch.utils.data import Dataset, DistributedSampler

from ca2sis.device import resolve_device


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def pick_device(requested: str, info: DistInfo) -> torch.device:
    if requested != "auto":
        device = resolve_device(requested)
        if device.type == "cuda" and device.index is None:
            device = torch.device("cuda", info.local_rank)
        return device
    if torch.cuda.is_available():
        return torch.device("cuda", info.local_rank % torch.cuda.device_count())
    return torch.device("cpu")


def init_distributed(device_request: str = "auto") -> tuple[DistInfo, torch.device]:
    """Join torchrun's process group if there is one; return who we are and our device."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    info = DistInfo(int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0")))
    device = pick_device(device_request, info)
    if info.enabled and not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend=backend)
    return info, device


def shutdown_distributed() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()


def broadcast_object(value: object, info: DistInfo) -> object:
    """Rank 0's value on every rank (the run directory, for example)."""
    if not info.enabled:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def all_reduce_mean(values: dict[str, float], info: DistInfo, device: torch.device) -> dict[str, float]:
    if not info.enabled or not values:
        return values
    keys = sorted(values)
    t = torch.tensor([values[k] for k in keys], device=device, dtype=torch.float64)
    dist.all_reduce(t)
    return {k: float(v) / info.world_size for k, v in zip(keys, t.tolist(), strict=True)}


def average_gradients(params: list[torch.nn.Parameter], info: DistInfo) -> None:
    """Manual gradient averaging, for modules driven through methods other than ``forward``."""
    if not info.enabled:
        return
    for p in params:
        if p.grad is not None:
            dist.all_reduce(p.grad)
            p.grad.div_(info.world_size)


def average_parameters(params: list[torch.nn.Parameter], info: DistInfo) -> None:
    """Make parameters that each rank set on its own share of the data equal everywhere (their mean)."""
    if not info.enabled:
        return
    for p in params:
        dist.all_reduce(p.data)
        p.data.div_(info.world_size)


class ResumableSampler(DistributedSampler):
    """DistributedSampler (seeded, sharded, drop-last) that can skip the batches a run already took.

    ``set_position(epoch, skip)`` makes the next iteration start ``skip`` samples into this rank's
    shard of epoch ``epoch``: a resumed run then sees exactly the samples an uninterrupted one would.
    """

    def __init__(self, dataset: Dataset, info: DistInfo, seed: int) -> None:
        super().__init__(dataset, num_replicas=info.world_size, rank=info.rank, shuffle=True, seed=seed, drop_last=True)
        self.skip = 0

    def set_position(self, epoch: int, skip: int) -> None:
        self.set_epoch(epoch)
        self.skip = skip

    def __iter__(self) -> Iterator[int]:
        indices = list(super().__iter__())[self.skip :]
        self.skip = 0
        return iter(indices)

    def __len__(self) -> int:
        return self.num_samples - self.skip
