"""Choosing where and in which precision the model runs."""

from __future__ import annotations

import functools
import os
import platform
import re
from pathlib import Path

import torch

PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


@functools.cache
def cpu_has_fast_bf16() -> bool:
    """True when the CPU multiplies bf16 matrices natively (AMX or AVX-512 BF16)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.machine() == "arm64"  # Apple silicon has native bf16 matrix units
    return "amx_bf16" in flags or "avx512_bf16" in flags


DEVICE_PATTERN = re.compile(r"(auto|cpu|cuda|mps)(?::(\d{1,4}))?")


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps`` as a device that exists on this machine.

    Anything else is a ``ValueError`` that says what to write instead, raised before a single tensor
    is made (torch's own parser would raise a ``RuntimeError`` naming two dozen device types).
    """
    if isinstance(device, torch.device):
        device = str(device)
    text = device.strip().lower() if isinstance(device, str) else ""
    match = DEVICE_PATTERN.fullmatch(text)
    index_allowed = {"auto": (None,), "cpu": (None, "0"), "mps": (None, "0")}
    if match is None or match.group(2) not in index_allowed.get(match.group(1), (match.group(2),)):
        raise ValueError(f"unknown device {device!r}; use auto, cpu, cuda, cuda:N or mps")
    kind, index = match.group(1), match.group(2)
    if kind == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise ValueError("CUDA was requested but no CUDA device is available; use --device cpu")
        count = torch.cuda.device_count()
        if index is not None and int(index) >= count:
            raise ValueError(f"there is no device {text}: this machine has {count} CUDA device(s), "
                             f"cuda:0 to cuda:{count - 1}")
        return torch.device("cuda", int(index)) if index is not None else torch.device("cuda")
    if kind == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise ValueError("the Apple GPU (mps) was requested but is not available here; use --device cpu")
    return torch.device(kind)


def resolve_precision(device: torch.device, precision: str = "auto") -> str:
    """fp32, bf16 or fp16. ``auto``: bf16 where the hardware makes it pay, else fp32 (fp16 on old GPUs)."""
    if precision != "auto":
        if precision not in PRECISIONS:
            raise ValueError(f"unknown precision {precision!r}; choose auto, {', '.join(PRECISIONS)}")
        if device.type == "cpu" and precision == "fp16":
            raise ValueError("fp16 is not supported on the CPU; use bf16 or fp32")
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "bf16" if cpu_has_fast_bf16() else "fp32"


def describe(device: torch.device, precision: str) -> str:
    if device.type == "cuda":
        return f"CUDA · {torch.cuda.get_device_name(device)} · {precision}"
    return f"CPU · {precision}"


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def use_interactive_threads(cores: int | None = None) -> int:
    """Give the model every core but one, so that a window's GUI thread keeps a core of its own.

    Call it on the thread that runs the model (OpenMP settings are per thread). With as many model
    threads as cores, any other busy thread (the GUI painting, another program) stalls each parallel
    layer at its barrier; on a 2-core CPU that turned a 75 ms edit into 0.4–5 s (docs/benchmarks.md).
    Returns the number of threads set.
    """
    threads = max(1, (cores or available_cores()) - 1)
    torch.set_num_threads(threads)
    return threads
