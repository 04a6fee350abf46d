"""The one table of semantic classes.

Every part of the program that needs to know about classes (the palette, the per-class panels, the
parsers' output remapping, the data sets' flip augmentation, the colour-mask codec) reads it from a
:class:`ClassTable`. CelebAMask-HQ's 19 classes are built in; other label sets (ADE20k, a generic
folder with N classes) are made with :meth:`ClassTable.generic`.

Left/right follow CelebAMask-HQ: ``l_eye`` is the subject's left eye, which appears on the *right*
side of a frontal photo.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

PERSON_GROUPS = ("face", "hair", "neck", "accessory")  # what belongs to the person (ClassTable.person)


@dataclass(frozen=True)
class FaceClass:
    id: int
    name: str  # the data set's own short name (``l_brow``)
    label: str  # what a person reads in the GUI (``Left brow``)
    color: tuple[int, int, int]
    shortcut: str = ""  # single key in the palette; empty when none
    mirror: int | None = None  # the class it becomes under a horizontal flip
    group: str = ""  # face, hair, neck, accessory, cloth or background; empty for label sets without groups


@dataclass(frozen=True)
class ClassTable:
    name: str
    classes: tuple[FaceClass, ...]
    background: int | None = 0  # id of the background class, if the label set has one
    presets: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for i, c in enumerate(self.classes):
            if c.id != i:
                raise ValueError(f"class table {self.name!r}: entry {i} has id {c.id}; ids must be 0..N-1")

    def __len__(self) -> int:
        return len(self.classes)

    def __getitem__(self, key: int | str) -> FaceClass:
        if isinstance(key, str):
            return self.by_name(key)
        return self.classes[key]

    def __iter__(self):
        return iter(self.classes)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.classes]

    def by_name(self, name: str) -> FaceClass:
        for c in self.classes:
            if name in (c.name, c.label) or name.lower() == c.label.lower():
                return c
        raise KeyError(f"unknown class {name!r}; known: {', '.join(self.names)}")

    def palette(self) -> np.ndarray:
        """N×3 uint8 colour table, row i = colour of class i."""
        return np.array([c.color for c in self.classes], dtype=np.uint8)

    def in_groups(self, *groups: str) -> tuple[int, ...]:
        """Ids of the classes in any of ``groups`` (``face``, ``hair``, ``neck``, ``accessory``, ...)."""
        return tuple(c.id for c in self.classes if c.group in groups)

    def person(self) -> tuple[int, ...]:
        """The person's classes, what an edited face brings back into its photo: the face, hair, neck
        and accessory groups (every class but the background in a table without groups)."""
        return self.in_groups(*PERSON_GROUPS) or tuple(c.id for c in self.classes if c.id != self.background)

    def flip_lut(self) -> np.ndarray:
        """Lookup table that maps each class id to its mirror (itself when it has none)."""
        lut = np.arange(len(self.classes), dtype=np.uint8)
        for c in self.classes:
            if c.mirror is not None:
                lut[c.id] = c.mirror
        return lut

    def colorize(self, mask: np.ndarray) -> np.ndarray:
        """Index mask H×W → RGB image H×W×3 with the table's colours."""
        mask = np.asarray(mask)
        if mask.size and int(mask.max()) >= len(self.classes):
            raise ValueError(f"mask holds class id {int(mask.max())}, but {self.name} has {len(self)} classes")
        return self.palette()[mask]

    def decolorize(self, rgb: np.ndarray, tolerance: int = 24) -> np.ndarray:
        """RGB colour mask → index mask, each pixel taking the nearest palette colour.

        Pixels farther than ``tolerance`` (per channel, max norm) from every colour raise, so a photo
        passed by mistake is refused instead of turned into noise.
        """
        rgb = np.asarray(rgb)
        pal = self.palette()
        if len(pal) >= 255:
            raise ValueError(f"{self.name} has {len(pal)} classes; colour masks hold at most 254")
        flat = rgb.reshape(-1, rgb.shape[-1])
        self._nearest(flat[:: max(1, len(flat) // 4096)], pal, tolerance)  # a photo is refused from a sample
        # Exact class colours (almost every pixel of a colour mask) by a table look-up on the packed
        # colour: linear time, seconds faster than sorting the colours of a 36 MP mask.
        lut = np.full(1 << 24, 255, np.uint8)
        lut[_pack(pal)[::-1]] = np.arange(len(pal), dtype=np.uint8)[::-1]  # a shared colour: the lowest id
        out = lut[_pack(flat)]
        # The other pixels (antialiased edges, a JPEG's noise) take the nearest class colour within
        # ``tolerance``, in chunks: a photo's first chunk already holds a colour far from every class.
        unknown = out == 255
        for block in range(0, out.size, 1 << 16):
            part = np.flatnonzero(unknown[block : block + (1 << 16)]) + block
            if part.size:
                out[part] = self._nearest(flat[part], pal, tolerance)
        return out.reshape(rgb.shape[:2])

    def _nearest(self, colours: np.ndarray, pal: np.ndarray, tolerance: int) -> np.ndarray:
        """The class whose colour is nearest to each of ``colours``; a colour far from all of them raises."""
        colours = colours[:, :3].astype(np.int16)
        dist = np.abs(colours[:, None, :] - pal.astype(np.int16)[None, :, :]).max(axis=2)
        best = dist.argmin(axis=1)
        far = dist[np.arange(len(colours)), best] > tolerance
        if far.any():
            bad = colours[far][0]
            raise ValueError(
                f"colour {tuple(int(v) for v in bad)} is not in the {self.name} palette; "
                "is this a colour mask of this label set?"
            )
        return best.astype(np.uint8)

    @staticmethod
    def generic(num_classes: int, name: str = "generic", background: int | None = 0) -> ClassTable:
        """A table for a label set known only by its size; colours are spread deterministically."""
        rng = np.random.default_rng(12345)
        cols = rng.integers(40, 256, size=(num_classes, 3))
        classes = []
        for i in range(num_classes):
            color = (0, 0, 0) if i == background else tuple(int(v) for v in cols[i])
            classes.append(FaceClass(i, f"class_{i}", f"Class {i}", color))
        return ClassTable(name, tuple(classes), background=background)


def _celebamask_hq() -> ClassTable:
    # Colours: the palette CelebAMask-HQ's own colour masks use (and SEAN/MaskGAN show).
    rows = [
        (0, "background", "Background", (0, 0, 0), "0", None),
        (1, "skin", "Skin", (204, 0, 0), "s", None),
        (2, "nose", "Nose", (76, 153, 0), "n", None),
        (3, "eye_g", "Glasses", (204, 204, 0), "g", None),
        (4, "l_eye", "Left eye", (51, 51, 255), "e", 5),
        (5, "r_eye", "Right eye", (204, 0, 204), "E", 4),
        (6, "l_brow", "Left brow", (0, 255, 255), "b", 7),
        (7, "r_brow", "Right brow", (255, 204, 204), "B", 6),
        (8, "l_ear", "Left ear", (102, 51, 0), "a", 9),
        (9, "r_ear", "Right ear", (255, 0, 0), "A", 8),
        (10, "mouth", "Mouth", (102, 204, 0), "m", None),
        (11, "u_lip", "Upper lip", (255, 255, 0), "u", None),
        (12, "l_lip", "Lower lip", (0, 0, 153), "l", None),
        (13, "hair", "Hair", (0, 0, 204), "h", None),
        (14, "hat", "Hat", (255, 51, 153), "t", None),
        (15, "ear_r", "Earring", (0, 204, 204), "r", None),
        (16, "neck_l", "Necklace", (0, 51, 0), "k", None),
        (17, "neck", "Neck", (255, 153, 51), "N", None),
        (18, "cloth", "Cloth", (0, 204, 0), "c", None),
    ]
    # What each class belongs to: the face, hair, neck and accessories are the person pasted back into
    # a photo after an edit; cloth and background stay the photo's own.
    groups = {"face": (1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12), "hair": (13,), "neck": (17,),
              "accessory": (3, 14, 15, 16), "cloth": (18,), "background": (0,)}
    group_of = {i: g for g, ids in groups.items() for i in ids}
    classes = tuple(FaceClass(i, n, lab, col, key, mir, group_of[i]) for i, n, lab, col, key, mir in rows)
    presets = {
        "all": tuple(range(19)),
        "face": (1, 2, 4, 5, 6, 7, 10, 11, 12, 13),
        "makeup": (4, 5, 6, 7, 11, 12),
        "lips": (11, 12),
        "eyes": (4, 5),
        "brows": (6, 7),
        "eyes and brows": (4, 5, 6, 7),
        "mouth": (10, 11, 12),
        "hair only": (13,),
        "skin": (1, 2),
        "nose": (2,),
        "background": (0,),
        "clothes": (16, 17, 18),
    }
    return ClassTable("CelebAMask-HQ", classes, background=0, presets=presets)


CELEBAMASK_HQ = _celebamask_hq()


def ade20k() -> ClassTable:
    """ADE20k scene parsing: 150 classes plus 0 = unlabeled, as the SPADE-lineage loaders keep it."""
    return ClassTable.generic(151, name="ADE20k", background=0)


def _pack(colours: np.ndarray) -> np.ndarray:
    """N×3 (or N×4) uint8 colours → one uint32 per colour, without an int32 copy of the image."""
    codes = colours[:, 0].astype(np.uint32)
    codes <<= 8
    codes |= colours[:, 1]
    codes <<= 8
    codes |= colours[:, 2]
    return codes
