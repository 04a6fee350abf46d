"""Opening and saving photos and masks: every kind of file a user may open, and every bad one."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ca2sis.classes import CELEBAMASK_HQ
from ca2sis.photo import PhotoError, load_image, load_mask, load_photo, save_image, save_mask


def gradient(h: int = 48, w: int = 64) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // (w - 1), y * 255 // (h - 1), np.full_like(x, 128)], -1).astype(np.uint8)


def test_rgb_png_loads_unchanged(tmp_path):
    rgb = gradient()
    Image.fromarray(rgb).save(tmp_path / "a.png")
    out = load_image(tmp_path / "a.png")
    assert out.dtype == np.uint8 and out.shape == (48, 64, 3)
    assert np.array_equal(out, rgb)


def test_exif_orientation_is_applied(tmp_path):
    rgb = gradient(40, 80)  # landscape pixels, but EXIF says "rotate 90° clockwise to view"
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(rgb).save(tmp_path / "rot.jpg", exif=exif.tobytes(), quality=95)
    loaded = load_photo(tmp_path / "rot.jpg")
    assert loaded.rgb.shape == (80, 40, 3)
    assert loaded.original_size == (40, 80)
    # Orientation 6: the image's left column becomes its top row (the dark red corner goes top-right).
    assert loaded.rgb[0, -1, 0] < 40 and loaded.rgb[-1, -1, 0] > 200


@pytest.mark.parametrize(
    "mode",
    ["L", "1", "P", "CMYK", "RGBA", "LA", "I;16"],
)
def test_colour_modes_become_rgb_uint8(tmp_path, mode):
    src = Image.fromarray(gradient())
    deep = np.asarray(src.convert("L")).astype(np.uint16) * 257
    img = Image.fromarray(deep) if mode == "I;16" else src.convert(mode)
    path = tmp_path / ("x.tif" if mode == "CMYK" else "x.png")
    img.save(path)
    out = load_image(path)
    assert out.shape == (48, 64, 3) and out.dtype == np.uint8
    assert 100 < out.mean() < 200  # content survived (not black, not white)


def test_16_bit_gray_keeps_its_range(tmp_path):
    gray = np.linspace(0, 65535, 64 * 48).reshape(48, 64).astype(np.uint16)
    Image.fromarray(gray).save(tmp_path / "deep.png")
    out = load_image(tmp_path / "deep.png")
    assert out[0, 0, 0] == 0 and out[-1, -1, 0] == 255


def test_transparent_pixels_become_white(tmp_path):
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:4, :, 3] = 255  # top half opaque red, bottom half fully transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "cut.png")
    out = load_image(tmp_path / "cut.png")
    assert tuple(out[0, 0]) == (200, 0, 0)
    assert tuple(out[-1, -1]) == (255, 255, 255)


def test_huge_jpeg_is_reduced_while_decoding_and_flagged(tmp_path):
    Image.fromarray(gradient(600, 800)).resize((4000, 3000)).save(tmp_path / "big.jpg", quality=70)
    loaded = load_photo(tmp_path / "big.jpg", max_pixels=1_000_000)
    h, w = loaded.rgb.shape[:2]
    assert h * w <= 1_000_000 and abs(w / h - 4 / 3) < 0.01
    assert loaded.downscaled and loaded.original_size == (4000, 3000)
    assert "reduced" in loaded.warnings[0]


def test_8000x6000_loads_at_full_size(tmp_path):
    Image.new("RGB", (8000, 6000), (10, 20, 30)).save(tmp_path / "camera.jpg", quality=50)
    loaded = load_photo(tmp_path / "camera.jpg")
    assert loaded.rgb.shape == (6000, 8000, 3) and not loaded.downscaled


@pytest.mark.parametrize(
    "content, words",
    [
        (b"this is not an image", "not a readable photo"),
        (b"", "empty"),
    ],
)
def test_garbage_files_raise_a_clear_photo_error(tmp_path, content, words):
    path = tmp_path / "bad.jpg"
    path.write_bytes(content)
    with pytest.raises(PhotoError, match=words) as info:
        load_image(path)
    assert "bad.jpg" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_truncated_jpeg_raises_a_clear_photo_error(tmp_path):
    buf = io.BytesIO()
    Image.fromarray(gradient(256, 256)).save(buf, "JPEG")
    (tmp_path / "cut.jpg").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(PhotoError, match="damaged or truncated"):
        load_image(tmp_path / "cut.jpg")


def test_missing_file_and_folder_are_named(tmp_path):
    with pytest.raises(PhotoError, match="no such file"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(PhotoError, match="is a folder"):
        load_image(tmp_path)


def test_save_image_is_atomic_and_leaves_no_temporary_files(tmp_path):
    rgb = gradient()
    save_image(tmp_path / "sub" / "out.png", rgb)
    assert np.array_equal(load_image(tmp_path / "sub" / "out.png"), rgb)
    save_image(tmp_path / "sub" / "out.jpg", rgb)
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["out.jpg", "out.png"]


def test_failed_save_keeps_the_previous_file(tmp_path, monkeypatch):
    target = tmp_path / "keep.png"
    save_image(target, gradient())
    before = target.read_bytes()

    def boom(self, fp, *a, **k):
        with open(fp, "wb") as f:  # half a file, then the disk is full
            f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", boom)
    with pytest.raises(OSError, match="disk full"):
        save_image(target, np.zeros((4, 4, 3), np.uint8))
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.png"]


def test_save_image_refuses_wrong_arrays(tmp_path):
    with pytest.raises(PhotoError, match="H×W×3 uint8"):
        save_image(tmp_path / "x.png", np.zeros((4, 4), np.uint8))


def test_index_mask_is_palettised_with_class_colours_and_round_trips(tmp_path):
    mask = np.arange(19, dtype=np.uint8).repeat(3).reshape(3, 19)
    save_mask(tmp_path / "m.png", mask)
    img = Image.open(tmp_path / "m.png")
    assert img.mode == "P"
    assert np.array_equal(np.asarray(img), mask)  # pixel values are the ids
    assert np.array_equal(np.asarray(img.convert("RGB")), CELEBAMASK_HQ.colorize(mask))  # and look right
    assert np.array_equal(load_mask(tmp_path / "m.png"), mask)


def test_colour_mask_round_trips_through_decolorize(tmp_path):
    mask = np.random.default_rng(0).integers(0, 19, (20, 30)).astype(np.uint8)
    save_mask(tmp_path / "c.png", mask, colour=True)
    assert Image.open(tmp_path / "c.png").mode == "RGB"
    assert np.array_equal(load_mask(tmp_path / "c.png"), mask)


def test_gray_index_mask_loads(tmp_path):
    mask = np.random.default_rng(1).integers(0, 19, (10, 10)).astype(np.uint8)
    Image.fromarray(mask, "L").save(tmp_path / "l.png")
    assert np.array_equal(load_mask(tmp_path / "l.png"), mask)


def test_out_of_range_ids_name_the_file_and_the_value(tmp_path):
    mask = np.zeros((8, 8), np.uint8)
    mask[3, 3] = 42
    Image.fromarray(mask, "L").save(tmp_path / "odd.png")
    with pytest.raises(ValueError, match=r"odd\.png.*42"):
        load_mask(tmp_path / "odd.png")


def test_photo_passed_as_colour_mask_is_refused(tmp_path):
    Image.fromarray(gradient()).save(tmp_path / "photo.png")
    with pytest.raises(PhotoError, match="not a CelebAMask-HQ colour mask"):
        load_mask(tmp_path / "photo.png")


def test_masks_must_be_png(tmp_path):
    with pytest.raises(PhotoError, match=r"\.png"):
        save_mask(tmp_path / "m.jpg", np.zeros((4, 4), np.uint8))
    with pytest.raises(PhotoError, match="has 0..18"):
        save_mask(tmp_path / "m.png", np.full((4, 4), 19, np.uint8))


def test_shared_data_pairs_load(shared_data: Path):
    name = sorted((shared_data / "images").iterdir())[0].stem
    rgb = load_image(shared_data / "images" / f"{name}.jpg")
    mask = load_mask(shared_data / "masks" / f"{name}.png")
    assert rgb.shape == (512, 512, 3) and mask.shape == (512, 512) and mask.max() < 19


def test_decompression_bombs_are_refused_without_decoding(tmp_path, monkeypatch):
    import ca2sis.photo.io as photo

    Image.new("L", (2000, 1000)).save(tmp_path / "wide.png")
    monkeypatch.setattr(photo, "HARD_MAX_PIXELS", 1_000_000)
    with pytest.raises(PhotoError, match="too large"):
        load_image(tmp_path / "wide.png", max_pixels=500_000)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100_000)  # Pillow's own guard (at 2×) is reported too
    with pytest.raises(PhotoError, match="too large"):
        load_image(tmp_path / "wide.png")


def test_saved_files_are_readable_by_others_like_any_new_file(tmp_path):
    import os
    import stat

    save_image(tmp_path / "shared.png", gradient())
    mode = stat.S_IMODE(os.stat(tmp_path / "shared.png").st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask
