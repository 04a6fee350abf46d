"""A photo's way into the model and back, one module a stage.

- :mod:`ca2sis.photo.io`: read a photo or a mask (any format a user opens, checked before decoding)
  and write them atomically. Its names are this package's own: ``from ca2sis.photo import load_image``.
- :mod:`ca2sis.photo.detection`: find faces (the bundled RetinaFace through facexlib): boxes,
  scores and five landmarks.
- :mod:`ca2sis.photo.align`: the CelebA-HQ framing from landmarks, and pasting an edited face back
  into the photo (only the person, feathered and colour-matched at the edge).
- :mod:`ca2sis.photo.portrait`: all of it for one photo: detect, choose a face, align, parse
  (:mod:`ca2sis.parsing`) and map the mask back to the photo.

Encoding and generating are :class:`ca2sis.Editor`'s.
"""

from ca2sis.photo.io import (
    HARD_MAX_PIXELS,
    JPEG_MAX_PIXELS,
    MASK_SUFFIXES,
    MAX_PIXELS,
    LoadedPhoto,
    PhotoError,
    load_image,
    load_mask,
    load_photo,
    save_image,
    save_mask,
)

__all__ = ["HARD_MAX_PIXELS", "JPEG_MAX_PIXELS", "MASK_SUFFIXES", "MAX_PIXELS", "LoadedPhoto", "PhotoError",
           "load_image", "load_mask", "load_photo", "save_image", "save_mask"]
