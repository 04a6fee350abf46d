"""What the photo benchmarks share: the held-out faces, background pieces and the machine's description.

Held-out faces are the shared data's faces that the bundled parser never trained on (the validation
part of ``split_names(names, 120)``), those among the last 100 by name (which the demo generator
never saw either) first. Background pieces come from the other photos, cut with their masks.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ca2sis.data.scenes import without_person  # noqa: E402
from ca2sis.parsing.dataset import list_pairs, split_names  # noqa: E402
from ca2sis.parsing.localize import landmarks_from_mask  # noqa: E402
from ca2sis.photo import load_image, load_mask  # noqa: E402

DEFAULT_DATA = ROOT / ".." / "shared" / "data" / "celebamask-mini"
PARSER_HELD_OUT = 120  # the bundled parser's validation split
DEMO_HELD_OUT = 100  # the demo generator's: the last 100 names
BACKGROUND_SOURCES = 96  # photos whose backgrounds make the photographic backgrounds: the first non-held-out ones
# Among those, photos whose backgrounds hold other people's faces (or a face-like logo, or a part of
# the person the mask missed), checked by eye on a contact sheet of their person-free backgrounds:
# kept out so that the face-free backgrounds really are face-free.
OTHER_FACES = frozenset({
    "01a64ed966194e1baf6b633a108a95eb", "03a3f4f861ba4ba3961481fab55c160a", "0423e6abf5a14435a40b4d31729f626f",
    "090fa7da4e604859afd24325738ca0b0", "0e79cf52659a4fcc9b53a487cf8c687a", "1891eb3040484758834a75fdcb00225a",
    "1c2ac857763b42f2ace106c954c1864a", "20f3411c297645ffa6767ac5c3c60a6d",
})


def held_out(data: Path) -> tuple[list[tuple[str, Path, Path]], list[tuple[str, Path, Path]]]:
    """(held-out pairs, the other pairs): held-out ones unseen by both bundled models first."""
    pairs = list_pairs(data)
    names = [n for n, _, _ in pairs]
    _, val = split_names(names, PARSER_HELD_OUT)
    unseen = set(sorted(names)[-DEMO_HELD_OUT:])
    by_name = {p[0]: p for p in pairs}
    order = sorted(val, key=lambda n: (n not in unseen, n))
    return [by_name[n] for n in order], [p for p in pairs if p[0] not in set(val)]


def read_face(pair: tuple[str, Path, Path]) -> tuple[str, np.ndarray, np.ndarray, np.ndarray | None]:
    """(name, image, mask, landmarks measured on the true mask; None where the mask lacks the parts)."""
    name, image_path, mask_path = pair
    mask = load_mask(mask_path)
    return name, load_image(image_path), mask, landmarks_from_mask(mask)


def backgrounds_from(pairs: list[tuple[str, Path, Path]]) -> list[np.ndarray]:
    """The backgrounds of ``pairs``' photos (person removed), except those with other people's faces."""
    return [without_person(image, mask) for name, image, mask, _ in map(read_face, pairs)
            if name not in OTHER_FACES]


def instruction_set() -> str:
    """'avx512_bf16', 'avx512' or 'avx2' (what the CPU's flags say), for every reported timing."""
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags"))
    except (OSError, StopIteration):
        return "unknown"
    for isa in ("amx_tile", "avx512_bf16", "avx512f", "avx2"):
        if f" {isa}" in flags:
            return isa.replace("avx512f", "avx512")
    return "no avx2"


def arguments(description: str) -> argparse.ArgumentParser:
    """The options both photo benchmarks take: --data, --threads, --seed, --json."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--threads", type=int, default=1, help="CPU threads for torch")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, help="write the results here")
    return p


def ready(args: argparse.Namespace) -> bool:
    """Set the thread count; False (after saying why) when the shared data is not there."""
    import torch

    torch.set_num_threads(args.threads)
    if not (args.data / "images").is_dir():
        print(f"no data at {args.data.resolve()}", file=sys.stderr)
        return False
    return True
