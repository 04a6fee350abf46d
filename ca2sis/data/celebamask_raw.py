"""The raw CelebAMask-HQ release: per-part annotation PNGs merged into index maps, cached once.

Raw layout: ``CelebA-HQ-img/<id>.jpg`` (1024²) and ``CelebAMask-HQ-mask-anno/<k>/<id:05d>_<part>.png``
(512², white where the part is), with ``k = id // 2000``. Parts are painted in the class-table order
(skin first, cloth last), later parts over earlier ones, which is how the data set's own
preprocessing builds its masks. The split follows the preprocessed release: ids below 28000 train,
the rest test.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from ca2sis.atomic import atomic_write
from ca2sis.classes import CELEBAMASK_HQ
from ca2sis.data.pairs import DataError, Pair
from ca2sis.safe_files import MASK_FORMATS, MAX_MASK_PIXELS, open_image

log = logging.getLogger(__name__)

IMAGE_DIR = "CelebA-HQ-img"
ANNO_DIR = "CelebAMask-HQ-mask-anno"
TRAIN_TEST_BOUNDARY = 28000
MASK_SIZE = 512


def is_raw_layout(root: Path) -> bool:
    return (root / IMAGE_DIR).is_dir() and (root / ANNO_DIR).is_dir()


def merge_parts(anno_dir: Path, sample_id: int) -> np.ndarray:
    """One 512² index map from the per-part PNGs of ``sample_id`` (absent parts are simply missing)."""
    folder = anno_dir / str(sample_id // 2000)
    out = np.zeros((MASK_SIZE, MASK_SIZE), dtype=np.uint8)
    for cls in CELEBAMASK_HQ.classes[1:]:
        path = folder / f"{sample_id:05d}_{cls.name}.png"
        if not path.is_file():
            continue
        try:
            with open_image(path, "part mask", MAX_MASK_PIXELS, MASK_FORMATS) as im:
                part = np.array(im.convert("L").resize((MASK_SIZE, MASK_SIZE), Image.Resampling.NEAREST))
        except Exception as exc:
            raise DataError(f"cannot read part mask {path}: {exc}") from exc
        out[part > 127] = cls.id
    return out


def _atomic_png(array: np.ndarray, path: Path) -> None:
    atomic_write(path, lambda tmp: Image.fromarray(array).save(tmp, format="PNG"), fsync=False)


def merged_pairs(root: Path, split: str, cache_dir: Path | None = None) -> list[Pair]:
    """Pairs for ``split`` ('train'/'test'/'all'), merging and caching masks that are not cached yet."""
    root = Path(root)
    cache = Path(cache_dir) if cache_dir else root / "merged-labels"
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create the mask cache {cache} ({exc}); pass a writable --cache-dir") from exc
    ids = sorted(int(p.stem) for p in (root / IMAGE_DIR).glob("*.jpg") if p.stem.isdigit())
    if not ids:
        raise DataError(f"no <id>.jpg images in {root / IMAGE_DIR}")
    if split == "train":
        ids = [i for i in ids if i < TRAIN_TEST_BOUNDARY]
    elif split == "test":
        ids = [i for i in ids if i >= TRAIN_TEST_BOUNDARY]
    todo = [i for i in ids if not (cache / f"{i}.png").is_file()]
    if todo:
        log.info("merging %d CelebAMask-HQ part masks into %s (done once)", len(todo), cache)
        for i in tqdm(todo, desc="merging masks", unit="mask"):
            _atomic_png(merge_parts(root / ANNO_DIR, i), cache / f"{i}.png")
    return [Pair(root / IMAGE_DIR / f"{i}.jpg", cache / f"{i}.png") for i in ids]
