"""A finished fit as data: the photo's tuned style codes and the generator's adapters.

Stored as safetensors bytes (the project file keeps them as one zip member) whose metadata names the
model the fit was made with, so a fit is refused by any other model. Reading validates everything
before anything is used: size caps, the format marker, tensor names, shapes, dtypes and finiteness.
Torch-free (numpy only), so the app can check a project's fit without loading the model.
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load as st_load
from safetensors.numpy import save as st_save

from ca2sis.fit.config import FitConfig
from ca2sis.fit.errors import FitFileError, FitMismatch
from ca2sis.requests import content_key

FORMAT = "ca2sis-fit/1"
MAX_BYTES = 64 * 2**20  # far above any real fit (the authors' model at rank 32: 12 MB)
MAX_HEADER = 2**20
MAX_TENSORS = 2048
_ADAPTER_NAME = re.compile(r"^[A-Za-z0-9_.]+\.(down|up|bias)$")


@dataclass(frozen=True, eq=False)
class FitState:
    face_key: str  # the editor's key of the photo and its mask at the model's resolution
    model: str  # fingerprint of the model the fit was made with (ca2sis.fit.adapters.fingerprint)
    model_name: str
    styles: np.ndarray  # C×D float32: the photo's tuned style codes (the pivot)
    adapters: dict[str, np.ndarray]  # <layer>.down / .up / .bias, float32
    config: FitConfig
    metrics: dict[str, float] = field(default_factory=dict)  # psnr_before, psnr_after, seconds, ...

    @cached_property
    def key(self) -> str:
        """A content key: equal for equal fits, different for anything else (model, face, numbers)."""
        names = sorted(self.adapters)
        h = content_key(self.styles, *(self.adapters[n] for n in names))
        return content_key(np.frombuffer(f"{self.face_key}|{self.model}|{h}|{','.join(names)}".encode(), np.uint8))

    @property
    def nbytes(self) -> int:
        """Bytes of tensor data (adapters and styles), the size that matters in a project file."""
        return int(self.styles.nbytes + sum(a.nbytes for a in self.adapters.values()))

    @property
    def adapter_bytes(self) -> int:
        return int(sum(a.nbytes for a in self.adapters.values()))

    def check_model(self, fingerprint: str, model_name: str) -> None:
        if self.model != fingerprint:
            raise FitMismatch(
                f"this fit was made with the model {self.model_name!r} ({self.model}), not with the loaded "
                f"{model_name!r} ({fingerprint}); fit the photo again with this model"
            )

    def summary(self) -> str:
        before, after = self.metrics.get("psnr_before"), self.metrics.get("psnr_after")
        if before is None or after is None:
            return "fitted"
        return f"fitted: PSNR {before:.1f} → {after:.1f} dB"

    # ---- bytes ------------------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        tensors = {"styles": np.ascontiguousarray(self.styles, np.float32)}
        tensors |= {f"adapter.{k}": np.ascontiguousarray(v, np.float32) for k, v in self.adapters.items()}
        meta = {
            "ca2sis.format": FORMAT,
            "ca2sis.model": self.model,
            "ca2sis.model_name": self.model_name,
            "ca2sis.face": self.face_key,
            "ca2sis.fit_config": self.config.to_json(),
            "ca2sis.metrics": json.dumps({k: float(v) for k, v in self.metrics.items()}, sort_keys=True),
        }
        return st_save(tensors, metadata=meta)

    @staticmethod
    def from_bytes(data: bytes, max_bytes: int = MAX_BYTES) -> FitState:
        """Parse and validate; raises :class:`FitFileError` naming the problem."""
        meta = _read_header(data, max_bytes)
        try:
            tensors = st_load(bytes(data))
        except (SafetensorError, ValueError, OSError) as exc:
            raise FitFileError(f"the fit's tensors are damaged ({exc})") from exc
        styles = tensors.pop("styles", None)
        if styles is None or styles.ndim != 2:
            raise FitFileError("the fit has no C×D style codes")
        adapters: dict[str, np.ndarray] = {}
        for name, array in tensors.items():
            short = name.removeprefix("adapter.")
            if short == name or not _ADAPTER_NAME.match(short):
                raise FitFileError(f"the fit holds an unexpected tensor {name!r}")
            adapters[short] = array
        if not adapters:
            raise FitFileError("the fit has no adapters")
        for name, array in [("styles", styles), *adapters.items()]:
            if array.dtype != np.float32:
                raise FitFileError(f"the fit's tensor {name} is {array.dtype}, not float32")
            if not np.isfinite(array).all():
                raise FitFileError(f"the fit's tensor {name} holds non-finite values")
        try:
            config = FitConfig.from_json(meta["ca2sis.fit_config"])
            metrics = {str(k): float(v) for k, v in json.loads(meta.get("ca2sis.metrics", "{}")).items()}
        except (ValueError, TypeError, AttributeError) as exc:
            raise FitFileError(f"the fit's settings are damaged ({exc})") from exc
        return FitState(meta["ca2sis.face"], meta["ca2sis.model"], meta.get("ca2sis.model_name", "?"),
                        styles, adapters, config, metrics)


def _read_header(data: bytes, max_bytes: int) -> dict[str, str]:
    """The safetensors header's metadata, checked before the tensors are touched."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise FitFileError(f"fit data must be bytes, got {type(data).__name__}")
    if len(data) > max_bytes:
        raise FitFileError(f"the fit is {len(data) / 2**20:.1f} MB, more than the {max_bytes / 2**20:.0f} MB allowed")
    if len(data) < 8:
        raise FitFileError("the fit is empty or truncated")
    (size,) = struct.unpack("<Q", bytes(data[:8]))
    if size > min(MAX_HEADER, len(data) - 8):
        raise FitFileError("the fit's header is damaged (its length is impossible)")
    try:
        header = json.loads(bytes(data[8 : 8 + size]))
    except (ValueError, UnicodeDecodeError) as exc:
        raise FitFileError(f"the fit's header is damaged ({exc})") from exc
    if not isinstance(header, dict):
        raise FitFileError("the fit's header is damaged (not a JSON object)")
    meta = header.get("__metadata__") or {}
    marker = meta.get("ca2sis.format") if isinstance(meta, dict) else None
    if marker != FORMAT:
        raise FitFileError(f"not a CA2SIS fit (format marker {marker!r}, expected {FORMAT!r})")
    for key in ("ca2sis.model", "ca2sis.face", "ca2sis.fit_config"):
        if not isinstance(meta.get(key), str) or not meta[key]:
            raise FitFileError(f"the fit's header lacks {key}")
    if len(header) - 1 > MAX_TENSORS:
        raise FitFileError(f"the fit holds {len(header) - 1} tensors, more than the {MAX_TENSORS} allowed")
    return meta
