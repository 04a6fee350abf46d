"""Test helpers: tiny or random-weight networks saved where the real loading code looks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ca2sis.parsing import BUNDLED_FILE
from ca2sis.parsing.facexlib_models import WEIGHTS, build_network
from ca2sis.parsing.network import FaceParserNet, ParserNetConfig, save_parser_net

TINY = ParserNetConfig(input_size=64, widths=(8, 8, 8, 8, 8), depths=(1, 1, 1, 1), expand=2, decoder_width=8)


def save_tiny_bundled(models_dir: Path, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    path = models_dir / BUNDLED_FILE
    save_parser_net(path, FaceParserNet(TINY).eval(), {"trained_on": "nothing (test)"})
    return path


def save_random_facexlib(models_dir: Path, names: tuple[str, ...] = ("parsenet", "bisenet", "retinaface")) -> None:
    """Random-weight facexlib networks under facexlib's own file names (as its releases ship them)."""
    folder = models_dir / "facexlib"
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    for name in names:
        state = build_network(name).state_dict()
        if name == "retinaface":  # the released file was saved from DataParallel
            state = {f"module.{k}": v for k, v in state.items()}
        torch.save(state, folder / WEIGHTS[name].file)


def random_face(size: int = 96, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (size, size, 3)).astype(np.uint8)
