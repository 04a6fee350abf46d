"""Data sets and transforms: pairing, the recipe's augmentation, left/right swap, bad data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ca2sis.classes import CELEBAMASK_HQ
from ca2sis.data import AugmentConfig, DataError, DataSpec, PairTransform, load_size_for, open_dataset
from ca2sis.data.celebamask_raw import merge_parts, merged_pairs
from ca2sis.data.synthetic import write_synthetic_pairs


def test_load_size_follows_the_resolution_with_the_recipes_ratio() -> None:
    assert load_size_for(256) == 286
    assert load_size_for(128) == 143


def test_train_transform_crops_to_the_resolution_and_keeps_image_and_label_aligned() -> None:
    label = np.zeros((50, 50), dtype=np.int64)
    label[:, :25] = 1  # left half class 1
    image = Image.fromarray(np.where(label[..., None] == 1, 255, 0).astype(np.uint8).repeat(3, axis=2))
    t = PairTransform(AugmentConfig(resolution=32, train=True, flip=True))
    for seed in range(6):
        x, y = t(image, label, np.random.default_rng(seed))
        assert x.shape == (3, 32, 32) and y.shape == (32, 32)
        assert x.min() >= -1.0 and x.max() <= 1.0
        bright = x.mean(0) > 0
        assert (bright == (y == 1)).float().mean() > 0.95


def test_flip_swaps_left_and_right_classes_by_default_and_not_when_switched_off() -> None:
    label = np.full((32, 32), CELEBAMASK_HQ["l_eye"].id, dtype=np.int64)
    image = Image.new("RGB", (32, 32))
    lut = CELEBAMASK_HQ.flip_lut()
    flipped_seed = next(s for s in range(50) if np.random.default_rng(s).random(3)[2] < 0.5)
    rng = lambda: np.random.default_rng(flipped_seed)  # noqa: E731
    on = PairTransform(AugmentConfig(resolution=32, train=True), lut)
    off = PairTransform(AugmentConfig(resolution=32, train=True, swap_left_right=False), lut)
    assert set(on(image, label, rng())[1].unique().tolist()) == {CELEBAMASK_HQ["r_eye"].id}
    assert set(off(image, label, rng())[1].unique().tolist()) == {CELEBAMASK_HQ["l_eye"].id}


def test_test_transform_resizes_without_crop_or_flip() -> None:
    label = np.arange(64 * 64).reshape(64, 64) % 3
    image = Image.new("RGB", (64, 64))
    t = PairTransform(AugmentConfig(resolution=32, train=False))
    a = t(image, label, np.random.default_rng(0))[1]
    b = t(image, label, np.random.default_rng(1))[1]
    assert a.shape == (32, 32) and bool((a == b).all())


def test_folder_data_set_pairs_by_name_and_augments_reproducibly(tmp_path: Path) -> None:
    write_synthetic_pairs(tmp_path, count=4, size=40, split="train")
    ds = open_dataset(DataSpec(tmp_path), "train", resolution=32, train=True, seed=3)
    assert len(ds) == 4
    first = ds[1]
    again = ds[1]
    assert first["image"].shape == (3, 32, 32) and bool((first["label"] == again["label"]).all())
    ds.set_epoch(1)
    assert any(
        not bool((ds[i]["image"] == open_dataset(DataSpec(tmp_path), "train", 32, True, seed=3)[i]["image"]).all())
        for i in range(4)
    )


def test_missing_partner_is_reported_and_strict_mode_refuses_it(tmp_path: Path, caplog) -> None:
    base = write_synthetic_pairs(tmp_path, count=3, size=16)
    (base / "labels" / "2.png").unlink()
    ds = open_dataset(DataSpec(tmp_path), "train", resolution=16, train=False)
    assert len(ds) == 2
    assert "2.jpg" in caplog.text
    with pytest.raises(DataError, match="no partner"):
        open_dataset(DataSpec(tmp_path), "train", resolution=16, train=False, strict=True)


def test_bad_files_are_skipped_with_their_name_unless_strict(tmp_path: Path, caplog) -> None:
    base = write_synthetic_pairs(tmp_path, count=3, size=16)
    (base / "images" / "0.jpg").write_bytes(b"not a jpeg")
    Image.fromarray(np.full((16, 16), 40, dtype=np.uint8)).save(base / "labels" / "1.png")
    ds = open_dataset(DataSpec(tmp_path), "train", resolution=16, train=False)
    assert ds[0]["name"] == "2" and ds[1]["name"] == "2"
    assert "0.jpg" in caplog.text and "1.png" in caplog.text and "class id 40" in caplog.text
    strict = open_dataset(DataSpec(tmp_path), "train", resolution=16, train=False, strict=True)
    with pytest.raises(DataError, match="0.jpg"):
        strict[0]


def test_rgb_colour_masks_are_refused_as_labels(tmp_path: Path) -> None:
    base = write_synthetic_pairs(tmp_path, count=1, size=16)
    Image.new("RGB", (16, 16)).save(base / "labels" / "0.png")
    ds = open_dataset(DataSpec(tmp_path), "train", resolution=16, train=False, strict=True)
    with pytest.raises(DataError, match="RGB"):
        ds[0]


def test_raw_celebamask_parts_are_merged_in_painting_order_and_cached(tmp_path: Path) -> None:
    root = tmp_path / "raw"
    (root / "CelebA-HQ-img").mkdir(parents=True)
    anno = root / "CelebAMask-HQ-mask-anno" / "0"
    anno.mkdir(parents=True)
    Image.new("RGB", (64, 64), (200, 150, 120)).save(root / "CelebA-HQ-img" / "7.jpg")
    skin = np.zeros((512, 512), np.uint8)
    skin[100:400, 100:400] = 255
    nose = np.zeros((512, 512), np.uint8)
    nose[200:300, 200:300] = 255
    Image.fromarray(skin).save(anno / "00007_skin.png")
    Image.fromarray(nose).save(anno / "00007_nose.png")
    merged = merge_parts(root / "CelebAMask-HQ-mask-anno", 7)
    assert merged[250, 250] == 2 and merged[150, 150] == 1 and merged[0, 0] == 0
    pairs = merged_pairs(root, "train", tmp_path / "cache")
    assert len(pairs) == 1 and pairs[0].label.is_file()
    stamp = pairs[0].label.stat().st_mtime_ns
    merged_pairs(root, "train", tmp_path / "cache")
    assert pairs[0].label.stat().st_mtime_ns == stamp  # cached, not merged again
    ds = open_dataset(DataSpec(root, cache_dir=tmp_path / "cache"), "train", resolution=32, train=False)
    assert ds[0]["label"].max() == 2


def test_missing_folder_gives_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        open_dataset(DataSpec(tmp_path / "nope"), "train", resolution=32, train=True)
    with pytest.raises(DataError, match="images"):
        open_dataset(DataSpec(tmp_path), "train", resolution=32, train=True)
