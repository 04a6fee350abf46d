"""Data sets (CelebAMask-HQ in both layouts, generic folders, ADE20k, DeepFashion) and transforms."""

from ca2sis.data.dataset import SegmentationPairs, collate
from ca2sis.data.layouts import KINDS, DataSpec, list_pairs, open_dataset
from ca2sis.data.pairs import DataError, Pair, find_pairs
from ca2sis.data.transforms import AugmentConfig, PairTransform, load_size_for

__all__ = [
    "KINDS",
    "AugmentConfig",
    "DataError",
    "DataSpec",
    "Pair",
    "PairTransform",
    "SegmentationPairs",
    "collate",
    "find_pairs",
    "list_pairs",
    "load_size_for",
    "open_dataset",
]
