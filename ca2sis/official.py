"""The authors' released generator checkpoint (``latest_net_G.pth``): key map and loader.

Their file is a plain ``state_dict`` of 388 tensors with names from their module tree. We name our
modules for what they are and translate names with the rules below; a file is accepted only when
every one of its tensors maps to one of ours with the same shape and none of ours is left without a
value.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

from ca2sis.config import INT_RANGES, ModelConfig, preset

MAX_CLASSES = INT_RANGES["num_classes"][1]
# A state dict's pickle holds names and shapes only (the authors' is about 60 kB); the tensors are
# separate members. A larger one is a pickle bomb for the (pure Python) weights-only unpickler.
MAX_PICKLE_BYTES = 1 << 20

# (pattern on our parameter name, replacement giving the authors' name), tried in order.
_RULES: list[tuple[str, str]] = [
    (r"^mask_embedder\.proj\.", "encs.encs.0."),
    (r"^style_encoder\.stem\.conv\.", "style_encoder.Encoder.first_layer.0."),
    (r"^style_encoder\.stem\.norm\.", "style_encoder.Encoder.first_layer.1."),
    (r"^style_encoder\.down\.(\d+)\.conv\.", r"style_encoder.Encoder.enc_layer_\1.0."),
    (r"^style_encoder\.down\.(\d+)\.norm\.", r"style_encoder.Encoder.enc_layer_\1.1."),
    (r"^style_encoder\.up\.(\d+)\.conv\.", r"style_encoder.Decoder.dec_layer_\1.1."),
    (r"^style_encoder\.up\.(\d+)\.norm\.", r"style_encoder.Decoder.dec_layer_\1.2."),
    (r"^style_encoder\.heads\.(\d+)\.", r"style_encoder.out.out_\1.0."),
    (r"^mapping\.trunk\.", "noise_encoder.shared."),
    (r"^mapping\.heads\.", "noise_encoder.unshared."),
    (r"^generator\.shape_in\.", "reshape_conv."),
    (r"^generator\.to_rgb\.", "out_conv."),
    (r"\.res\.norm1\.", ".in_layers.0."),
    (r"\.res\.conv1\.", ".in_layers.2."),
    (r"\.res\.norm2\.", ".out_layers.0."),
    (r"\.res\.conv2\.", ".out_layers.3."),
    (r"\.res\.skip\.", ".skip_connection."),
    (r"\.attn\.block\.self_attn\.to_out\.", ".transformer_blocks.0.attn1.to_out.0."),
    (r"\.attn\.block\.cross_attn\.to_out\.", ".transformer_blocks.0.attn2.to_out.0."),
    (r"\.attn\.block\.self_attn\.", ".transformer_blocks.0.attn1."),
    (r"\.attn\.block\.cross_attn\.", ".transformer_blocks.0.attn2."),
    (r"\.attn\.block\.ff\.proj_in\.", ".transformer_blocks.0.ff.net.0.proj."),
    (r"\.attn\.block\.ff\.proj_out\.", ".transformer_blocks.0.ff.net.2."),
    (r"\.attn\.block\.(norm\d)\.", r".transformer_blocks.0.\1."),
    (r"\.attn\.(norm|proj_in|proj_out)\.", r".\1."),
]


def _stage_prefix(name: str) -> str:
    # generator.stages.<k>.res.* → res<k+2>.*, generator.stages.<k>.attn.* → cross<k+2>.*
    m = re.match(r"^generator\.stages\.(\d+)\.(res|attn)\.", name)
    if not m:
        return name
    k = int(m.group(1)) + 2
    kind = "res" if m.group(2) == "res" else "cross"
    return f"{kind}{k}.{m.group(2)}." + name[m.end():]


def official_name(ours: str) -> str:
    name = _stage_prefix(ours)
    for pattern, repl in _RULES:
        name = re.sub(pattern, repl, name)
    return name


def key_map(model: torch.nn.Module) -> dict[str, str]:
    """Our parameter name → the authors' name, for every tensor of the model."""
    return {ours: official_name(ours) for ours in model.state_dict()}


def official_config(num_classes: int = 19) -> ModelConfig:
    """The architecture their CelebAMask-HQ script builds (other label sets: change num_classes)."""
    return preset("celebamask-256", num_classes=num_classes)


class CheckpointMismatch(ValueError):
    """A weights file that is not a checkpoint of the expected model."""


def convert_state_dict(official: dict[str, torch.Tensor], model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Rename an official state dict to our names, refusing anything that does not match exactly."""
    ours = model.state_dict()
    mapping = key_map(model)
    theirs_to_ours = {v: k for k, v in mapping.items()}
    missing = sorted(v for v in mapping.values() if v not in official)
    unexpected = sorted(k for k in official if k not in theirs_to_ours)
    wrong_shape = [
        f"{k}: file {tuple(official[k].shape)} vs model {tuple(ours[theirs_to_ours[k]].shape)}"
        for k in official
        if k in theirs_to_ours and tuple(official[k].shape) != tuple(ours[theirs_to_ours[k]].shape)
    ]
    if missing or unexpected or wrong_shape:
        parts = []
        if missing:
            parts.append(f"{len(missing)} tensors missing (e.g. {', '.join(missing[:3])})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected tensors (e.g. {', '.join(unexpected[:3])})")
        if wrong_shape:
            parts.append(f"{len(wrong_shape)} tensors of another shape (e.g. {'; '.join(wrong_shape[:3])})")
        raise CheckpointMismatch(
            "not a (CA)²-SIS generator checkpoint of the expected architecture: " + "; ".join(parts)
        )
    return {theirs_to_ours[k]: v for k, v in official.items()}


def read_official(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a ``.pth`` state dict without unpickling code."""
    from ca2sis.safe_files import FileRefused, open_regular

    try:
        with open_regular(path, "weights file") as f:
            _check_pickle(f, path)
            state = torch.load(f, map_location="cpu", weights_only=True)
    except FileRefused as err:
        raise CheckpointMismatch(str(err)) from None
    except CheckpointMismatch:
        raise
    except Exception as err:  # pickle errors, zip errors, refused globals
        raise CheckpointMismatch(f"{path}: not a readable PyTorch state dict ({err})") from err
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointMismatch(f"{path}: does not hold a flat dictionary of tensors")
    # A file saved from a DataParallel/DDP wrapper carries a "module." prefix on every key.
    if state and all(k.startswith("module.") for k in state):
        state = {k[len("module."):]: v for k, v in state.items()}
    return state


def _check_pickle(f, path: str | Path) -> None:
    """Only PyTorch's zip format (every torch.save since 1.6), with a small pickle inside."""
    import zipfile

    if not zipfile.is_zipfile(f):
        raise CheckpointMismatch(
            f"{path}: not a PyTorch zip checkpoint (an old pre-1.6 file, or not PyTorch at all); an old file "
            "can be re-saved with torch.save(torch.load(old, weights_only=True), new) in a current PyTorch"
        )
    f.seek(0)
    with zipfile.ZipFile(f) as zf:
        pickles = [i for i in zf.infolist() if i.filename.endswith("data.pkl")]
        if not pickles:
            raise CheckpointMismatch(f"{path}: a zip file, but not a PyTorch checkpoint (no data.pkl)")
        if any(i.file_size > MAX_PICKLE_BYTES for i in pickles):
            raise CheckpointMismatch(f"{path}: its pickle is larger than a state dict's ({MAX_PICKLE_BYTES} bytes)")
    f.seek(0)


def infer_num_classes(state: dict[str, torch.Tensor]) -> int:
    """The label set size an official file was trained for (style tokens per class)."""
    w = state.get("style_encoder.out.out_0.0.weight")
    if w is None:
        raise CheckpointMismatch("no style encoder output layer: not a (CA)²-SIS generator checkpoint")
    if w.ndim < 2 or w.shape[0] % 256 or not 2 <= w.shape[0] // 256 <= MAX_CLASSES:
        raise CheckpointMismatch(
            f"the style encoder's output layer has shape {tuple(w.shape)}: not a (CA)²-SIS generator "
            f"for 2 to {MAX_CLASSES} classes"
        )
    return w.shape[0] // 256
