"""Training views for the parser: new backgrounds behind the person, occluders in front, determinism."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ca2sis.parsing.augment import AugmentConfig, augment, augmented_batch, sample_rng
from ca2sis.parsing.backgrounds import (
    TEXTURE_KINDS,
    TRAINING_KINDS,
    PhotoBackgrounds,
    composite,
    onto_background,
    texture,
)
from ca2sis.parsing.occluders import add_occluders

# One view family at a time, nothing random but what a test is about.
STILL = dict(out_size=64, label_stride=1, framing_share=1.0, flip=0.0, gray=0.0, blur=0.0, noise=0.0)


def portrait(size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """A flat grey 'person' (skin, hair, cloth at the bottom) on a flat green background."""
    mask = np.zeros((size, size), np.uint8)
    mask[size // 4 : size, size // 4 : 3 * size // 4] = 1
    mask[size // 8 : size // 4, size // 4 : 3 * size // 4] = 13
    mask[3 * size // 4 :, size // 8 : 7 * size // 8] = 18
    rgb = np.zeros((size, size, 3), np.uint8)
    rgb[:] = (40, 160, 40)
    rgb[mask != 0] = (150, 150, 150)
    return rgb, mask


def checkerboard(size: int = 64, cell: int = 4) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size]
    return np.where(((yy // cell + xx // cell) % 2)[..., None] == 1, 250, 5).astype(np.uint8).repeat(3, axis=2)


def test_composite_puts_the_face_where_alpha_is_one_and_the_background_elsewhere():
    rng = np.random.default_rng(0)
    face, bg = rng.random((32, 32, 3), dtype=np.float32), rng.random((32, 32, 3), dtype=np.float32)
    alpha = np.zeros((32, 32), np.float32)
    alpha[8:24, 4:20] = 1
    alpha[0, 0] = 0.25
    out = composite(face, alpha, bg)
    inside = alpha == 1
    outside = alpha == 0
    assert np.array_equal(out[inside], face[inside]) and np.array_equal(out[outside], bg[outside])
    assert np.allclose(out[0, 0], 0.25 * face[0, 0] + 0.75 * bg[0, 0])
    with pytest.raises(ValueError, match="differ in size"):
        composite(face, alpha[:16], bg)


def test_a_pair_goes_in_front_of_a_background_exactly_along_its_mask():
    rgb, mask = portrait()
    bg = checkerboard().astype(np.float32) / 255
    out = onto_background(rgb, mask, bg, feather_px=0)
    assert np.array_equal(out[mask != 0], rgb[mask != 0])
    assert np.array_equal(out[mask == 0], checkerboard()[mask == 0])


def test_training_views_replace_the_background_and_keep_the_labels():
    rgb, mask = portrait()
    photos = PhotoBackgrounds(checkerboard()[None], np.zeros((1, 64, 64), np.uint8))
    cfg = AugmentConfig(**STILL, background_share=1.0, photo_share=1.0, feather_px=(0.0, 0.0))
    img, lab = augment(rgb, mask, cfg, np.random.default_rng(0), photos=photos)
    assert np.array_equal(lab, mask)  # the data's own framing: labels untouched
    face, background = img[mask == 1], img[mask == 0]
    assert face.std(0).max() < 1e-3  # the person's pixels keep their (jittered) flat colour
    assert background.std(0).min() > 0.2  # the flat green is now the photo's checkerboard
    same = augment(rgb, mask, AugmentConfig(**STILL), np.random.default_rng(0))[0]
    assert same[mask == 0].std(0).max() < 1e-3  # without background_share it stays flat


def test_texture_backgrounds_replace_the_background_too():
    rgb, mask = portrait()
    cfg = AugmentConfig(**STILL, background_share=1.0, feather_px=(0.0, 0.0))
    stds = [augment(rgb, mask, cfg, np.random.default_rng(s))[0][mask == 0].std(0).max() for s in range(8)]
    assert np.median(stds) > 0.01  # flat colours are one kind of several; most are textured
    means = [augment(rgb, mask, cfg, np.random.default_rng(s))[0][mask == 0].mean(0) for s in range(8)]
    assert np.ptp(np.array(means), axis=0).max() > 0.2  # and each view gets its own


def test_zoomed_out_views_continue_the_body_below_the_crop_and_the_background_elsewhere():
    rgb, mask = portrait()
    cfg = AugmentConfig(**{**STILL, "framing_share": 0.0}, aligned_share=1.0, aligned_scale=(0.5, 0.5),
                        aligned_rotate_deg=0.0, shift=0.0, background_share=1.0, photo_share=0.0)
    _, lab = augment(rgb, mask, cfg, np.random.default_rng(0))
    # The crop shrinks to the middle half: cloth reaches its bottom edge (row 48) and goes on below.
    assert (lab[48:, 21:43] == 18).all()
    assert (lab[:14] == 0).all() and (lab[:, :14] == 0).all()


def test_occluders_are_labelled_background_and_change_nothing_else():
    rgb, mask = portrait()
    img = rgb.astype(np.float32) / 255
    skin = np.array([0.6, 0.6, 0.6], np.float32)
    cleared = 0
    for seed in range(12):
        out, lab = add_occluders(img, mask, np.random.default_rng(seed), skin, count=2)
        changed_label = lab != mask
        assert (lab[changed_label] == 0).all()  # only ever set to background
        untouched = (out == img).all(axis=2)
        assert not (changed_label & untouched).any()  # a label changes only where something was drawn
        face = mask != 0
        assert (changed_label & face).sum() <= 2 * 0.35 * face.sum()
        cleared += int((changed_label & face).sum())
    assert cleared > 0


def test_occluders_clear_labels_on_a_coarser_grid():
    rgb, mask = portrait()
    coarse = mask[::2, ::2].copy()
    out, lab = add_occluders(rgb.astype(np.float32) / 255, coarse, np.random.default_rng(3), np.ones(3, np.float32),
                             count=2)
    assert out.shape == (64, 64, 3) and lab.shape == (32, 32)
    assert ((lab != coarse) <= (lab == 0)).all()


def test_views_are_a_function_of_seed_epoch_and_sample():
    rgb, mask = portrait()
    cfg = AugmentConfig(out_size=64, label_stride=2, framing_share=0.3, aligned_share=0.4, background_share=0.7,
                        occluder_share=0.5, noise=0.3)
    a = augment(rgb, mask, cfg, sample_rng(7, 3, 5))
    b = augment(rgb, mask, cfg, sample_rng(7, 3, 5))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    for other in (sample_rng(7, 3, 6), sample_rng(7, 4, 5), sample_rng(8, 3, 5)):
        assert not np.array_equal(augment(rgb, mask, cfg, other)[0], a[0])
    # A sample's view does not depend on the samples drawn before it in its batch.
    images, masks = rgb[None].repeat(3, 0), mask[None].repeat(3, 0)
    batch, _ = augmented_batch(images, masks, np.array([0, 1, 2]), cfg, [sample_rng(7, 3, j) for j in (3, 4, 5)])
    assert np.array_equal(batch[2], a[0].transpose(2, 0, 1))


@pytest.mark.parametrize("kind", sorted(TEXTURE_KINDS))
def test_every_texture_is_an_image_fixed_by_its_generator(kind):
    first = TEXTURE_KINDS[kind](np.random.default_rng(1), 48)
    assert first.shape == (48, 48, 3) and first.dtype == np.float32
    assert np.array_equal(first, TEXTURE_KINDS[kind](np.random.default_rng(1), 48))
    assert not np.array_equal(first, TEXTURE_KINDS[kind](np.random.default_rng(2), 48))


def test_texture_draws_only_the_kinds_asked_for_and_stays_in_range():
    assert "bricks" not in TRAINING_KINDS  # kept for measuring what the parser learned, not memorised
    for seed in range(10):
        img = texture(np.random.default_rng(seed), 32, ["stripes"])
        assert img.min() >= 0 and img.max() <= 1
    with pytest.raises(ValueError, match="unknown texture kinds"):
        texture(np.random.default_rng(0), 32, ["marble"])


def test_photo_backgrounds_come_from_background_regions_only():
    images = np.zeros((2, 64, 64, 3), np.uint8)
    images[..., 2] = 255  # blue background
    masks = np.zeros((2, 64, 64), np.uint8)
    masks[:, 16:, 8:56] = 1
    images[:, 16:, 8:56] = (255, 0, 0)  # a red person
    photos = PhotoBackgrounds(images, masks, clean=1.0)
    assert len(photos) > 0
    for seed in range(10):
        bg = photos(np.random.default_rng(seed), 32)
        assert bg.shape == (32, 32, 3) and (bg[..., 0] == 0).all()  # never a red pixel
    only_first = PhotoBackgrounds(images, np.stack([masks[0], np.ones((64, 64), np.uint8)]))
    assert {b[0] for b in only_first.boxes} == {0}
    with pytest.raises(ValueError, match="no photo"):
        only_first(np.random.default_rng(0), 32, exclude=0)


def test_measuring_scenes_are_fixed_and_keep_the_person_and_the_mask():
    from ca2sis.parsing.backgrounds import SCENE_FAMILIES, background_scenes

    rgb, mask = portrait()
    images = np.stack([rgb, rgb // 2, checkerboard()])
    masks = np.stack([mask, mask, np.zeros_like(mask)])
    first = list(background_scenes(images, masks))
    assert [(f, i) for f, i, _, _ in first] == [(f, i) for i in range(3) for f in SCENE_FAMILIES]
    again = list(background_scenes(images, masks))
    assert all(np.array_equal(a[2], b[2]) for a, b in zip(first, again, strict=True))
    for family, i, img, truth in first:
        assert np.array_equal(truth, masks[i])
        inner = cv2.erode((truth != 0).astype(np.uint8), np.ones((7, 7), np.uint8)) > 0  # past the feather
        assert np.abs(img[inner].astype(int) - images[i][inner]).max(initial=0) <= 1
        if family == "photo" and i < 2:
            assert (img[truth == 0].std(0) > 50).all()  # the third pair's checkerboard, not its own green
