"""A face's fit as the document keeps it: the bytes the editor produced, checked, with a summary.

Qt- and torch-free: the bytes are validated by :class:`ca2sis.fit.FitState` (numpy only) when the
record is made, so a project with a damaged fit is refused on open, and the model check happens
when the editor registers it (:class:`app.render_bridge.RenderBridge`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ca2sis.fit import FitState


@dataclass(frozen=True, eq=False)
class FitRecord:
    key: str  # the fit's content key (the same in the document and in the editor)
    data: bytes  # safetensors bytes, as stored in the project
    model: str  # fingerprint of the model it was made with
    model_name: str
    summary: str  # "fitted: PSNR 15.3 → 25.1 dB"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FitRecord) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    @staticmethod
    def from_bytes(data: bytes) -> FitRecord:
        """Validate fit bytes (raises :class:`ca2sis.fit.FitFileError`) and describe them."""
        state = FitState.from_bytes(data)
        return FitRecord(state.key, bytes(data), state.model, state.model_name, state.summary())
