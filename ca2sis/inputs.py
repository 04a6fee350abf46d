"""Validation and resizing of the images and masks people hand to the model."""

from __future__ import annotations

import numpy as np
from PIL import Image


def check_image(image: np.ndarray, what: str = "image") -> np.ndarray:
    """Accept an H×W×3 uint8 RGB array; refuse anything else with a message that says what it got."""
    if not isinstance(image, np.ndarray):
        raise TypeError(f"{what} must be a numpy array, got {type(image).__name__}")
    if image.ndim != 3 or image.shape[2] != 3:
        detail = "a grayscale image" if image.ndim == 2 else f"shape {image.shape}"
        if image.ndim == 3 and image.shape[2] == 4:
            detail = "an RGBA image"
        raise ValueError(f"{what} must be RGB (H×W×3); got {detail}. Convert it to RGB first.")
    if image.dtype != np.uint8:
        raise TypeError(f"{what} must be uint8 (0–255); got {image.dtype}")
    if min(image.shape[:2]) < 8:
        raise ValueError(f"{what} is too small: {image.shape[1]}×{image.shape[0]}")
    return image


def check_mask(mask: np.ndarray, num_classes: int, what: str = "mask") -> np.ndarray:
    """Accept an H×W integer index mask with ids in 0..num_classes-1."""
    if not isinstance(mask, np.ndarray):
        raise TypeError(f"{what} must be a numpy array, got {type(mask).__name__}")
    if mask.ndim != 2:
        raise ValueError(f"{what} must be a single-channel index mask (H×W); got shape {mask.shape}")
    if not np.issubdtype(mask.dtype, np.integer):
        raise TypeError(f"{what} must hold integer class ids; got {mask.dtype}")
    if mask.size:
        lo, hi = int(mask.min()), int(mask.max())
        if lo < 0 or hi >= num_classes:
            bad = hi if hi >= num_classes else lo
            raise ValueError(f"{what} holds class id {bad}; valid ids are 0..{num_classes - 1}")
    return mask.astype(np.uint8, copy=False)


def check_pair(image: np.ndarray, mask: np.ndarray, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    image = check_image(image)
    mask = check_mask(mask, num_classes)
    if image.shape[:2] != mask.shape:
        raise ValueError(
            f"image is {image.shape[1]}×{image.shape[0]} but its mask is {mask.shape[1]}×{mask.shape[0]}; "
            "they must be the same size"
        )
    return image, mask


def resize_image(image: np.ndarray, size: int) -> np.ndarray:
    if image.shape[:2] == (size, size):
        return image
    return np.asarray(Image.fromarray(image).resize((size, size), Image.Resampling.BICUBIC))


def resize_mask(mask: np.ndarray, size: int) -> np.ndarray:
    if mask.shape == (size, size):
        return mask
    return np.asarray(Image.fromarray(mask).resize((size, size), Image.Resampling.NEAREST))
