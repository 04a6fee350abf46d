"""A train/test split of a flat ``images/`` + ``masks/`` folder, as a folder of symbolic links.

The bundled demo model's split of the shared CelebAMask-HQ mini set: pairs sorted by file name, the
last ``held_out`` are the test split (never trained on), the rest train. The result has the
preprocessed CelebAMask-HQ layout (``{train,test}/{images,labels}``) that ``main.py train`` and
``main.py evaluate --split test`` read; nothing is copied.
"""

from __future__ import annotations

import os
from pathlib import Path

from ca2sis.data.pairs import DataError, find_pairs

DEMO_HELD_OUT = 100


def split_names(source: Path, held_out: int = DEMO_HELD_OUT) -> tuple[list[str], list[str]]:
    """(train, test) pair stems of ``source`` (sorted by name; the last ``held_out`` are test)."""
    pairs = sorted(find_pairs(_images_dir(source), source / "masks"), key=lambda p: p.image.name)
    if len(pairs) <= held_out:
        raise DataError(f"{source} has {len(pairs)} pairs; a split holding out {held_out} needs more")
    stems = [p.image.stem for p in pairs]
    return stems[:-held_out], stems[-held_out:]


def _images_dir(source: Path) -> Path:
    return source / "images"


def link_split(source: str | Path, dest: str | Path, held_out: int = DEMO_HELD_OUT) -> Path:
    """Create (or refresh) ``dest/{train,test}/{images,labels}`` with links into ``source``; returns ``dest``."""
    source, dest = Path(source).resolve(), Path(dest)
    pairs = {p.image.stem: p for p in find_pairs(_images_dir(source), source / "masks")}
    train, test = split_names(source, held_out)
    for split, stems in (("train", train), ("test", test)):
        for kind in ("images", "labels"):
            folder = dest / split / kind
            folder.mkdir(parents=True, exist_ok=True)
            wanted = {}
            for stem in stems:
                target = pairs[stem].image if kind == "images" else pairs[stem].label
                wanted[target.name] = target
            for old in folder.iterdir():  # a refresh drops links that are no longer in the split
                if old.name not in wanted and old.is_symlink():
                    old.unlink()
            for name, target in wanted.items():
                link = folder / name
                if link.is_symlink() and Path(os.readlink(link)) == target:
                    continue
                if link.is_symlink():
                    link.unlink()
                link.symlink_to(target)
    return dest
