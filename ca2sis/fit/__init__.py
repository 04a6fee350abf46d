"""Fit to photo: make the model reproduce one photo, and keep its edits working.

    result = editor.fit(face_key)                                   # FitConfig: the editor's default
    image = editor.render(RenderRequest.build(mask_key, face_key, fit=result.key)).image

Phases, losses and the locality regulariser: :mod:`ca2sis.fit.loop`; the generator's change (low-rank
adapters): :mod:`ca2sis.fit.adapters`; the stored form (safetensors bytes naming the model):
:mod:`ca2sis.fit.state`. This package's top level imports no torch (the app validates fits with it).
"""

from ca2sis.fit.config import DEFAULT, FitConfig, default_config
from ca2sis.fit.errors import FitCancelled, FitFileError, FitMismatch
from ca2sis.fit.state import FitState

__all__ = ["DEFAULT", "FitCancelled", "FitConfig", "FitFileError", "FitMismatch", "FitState", "default_config"]
