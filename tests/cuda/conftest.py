"""The CUDA code paths. Every test here is marked ``cuda``: it runs on the GPU and is skipped without one.

``CA2SIS_TEST_DEVICE=cpu`` runs the same tests on the CPU instead (``bench/gpu_check.py --device cpu``
does this), so that their code keeps running on machines without a GPU; the CPU is then the device
under test, and fp16, which the editor does not offer on a CPU, is skipped.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from bench.inference import build_model
from ca2sis.model import CA2SIS

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "models" / "demo-128.safetensors"
SAMPLES = ROOT / "resources" / "samples"
DEVICE_VARIABLE = "CA2SIS_TEST_DEVICE"


@pytest.fixture(scope="session")
def device() -> torch.device:
    dev = torch.device(os.environ.get(DEVICE_VARIABLE, "cuda"))
    if dev.type == "cuda" and not torch.cuda.is_available():
        pytest.skip(f"needs a CUDA GPU (torch.cuda.is_available() is False); {DEVICE_VARIABLE}=cpu runs it on the CPU")
    return dev


def require_precision(device: torch.device, precision: str) -> None:
    """Skip a precision the device does not offer."""
    if device.type == "cpu" and precision == "fp16":
        pytest.skip("the editor offers fp16 on CUDA only")
    if device.type == "cuda" and precision == "bf16" and not torch.cuda.is_bf16_supported():
        pytest.skip(f"{torch.cuda.get_device_name(device)} has no bf16")


def load_face(name: str) -> tuple[np.ndarray, np.ndarray]:
    """A bundled sample portrait and its 19-class mask."""
    if not (SAMPLES / f"{name}_mask.png").is_file():
        pytest.skip(f"needs the bundled sample portrait {name}")
    image = np.asarray(Image.open(SAMPLES / f"{name}.png").convert("RGB"))
    return image, np.asarray(Image.open(SAMPLES / f"{name}_mask.png"))


def named_model(name: str) -> CA2SIS:
    """``demo-128``: the bundled weights. Any other preset: the benchmarks' random weights with every
    layer active (a fresh model's zeroed output convolutions would hide reduced-precision error)."""
    if name == "demo-128" and not DEMO.is_file():
        pytest.skip(f"needs the bundled demo model {DEMO}")
    return build_model(name, str(DEMO) if name == "demo-128" else None)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean())
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)
