"""Bad weights files: pickles that run code, foreign checkpoints, safetensors whose config asks for
absurd sizes (or is not a config at all), tensors that do not fit, and damaged files.

A pickle's code, if it ever ran, would create ``MARKER`` next to the input's folder: the harness
counts that as an escape.
"""

from __future__ import annotations

import functools
import io
import json
import pickle
import struct
from pathlib import Path

import torch
from safetensors.torch import save, save_file

from ca2sis.checkpoint import CONFIG_KEY, FORMAT, FORMAT_KEY
from ca2sis.config import preset
from tests.bad_inputs.case import MARKER, Case, garbage, not_files, write


@functools.cache
def tiny_state() -> dict[str, torch.Tensor]:
    from ca2sis.model import CA2SIS

    torch.manual_seed(0)
    return {k: v.detach().clone().contiguous() for k, v in CA2SIS(preset("tiny")).state_dict().items()}


def tiny_config() -> dict:
    return json.loads(preset("tiny").to_json())


def ours(config: str | dict | None, tensors: dict[str, torch.Tensor] | None = None, extra: dict | None = None):
    """A safetensors file with ``config`` (text or a dict) as its model config."""

    def make(folder: Path) -> Path:
        meta = {FORMAT_KEY: FORMAT, **(extra or {})}
        if config is not None:
            meta[CONFIG_KEY] = config if isinstance(config, str) else json.dumps(config)
        path = folder / "weights.safetensors"
        save_file(tiny_state() if tensors is None else tensors, str(path), metadata=meta)
        return path

    return make


def _config_cases() -> list[Case]:
    def changed(**changes) -> dict:
        return {**tiny_config(), **changes}

    stage = tiny_config()["stages"][0]
    huge_widths = changed(mapping_hidden=16384, mapping_layers=16)  # 81 G parameters, every field in range
    wide_convs = changed(base_channels=8192, stages=[dict(s, channels=8192) for s in tiny_config()["stages"]])
    attention_everywhere = changed(stages=[dict(s, self_attention=True) for s in tiny_config()["stages"]],
                                   token_grid=64, resolution=1024)
    variants: dict[str, str | dict] = {
        "width-1e6": changed(base_channels=1_000_000),
        "81G-parameters": huge_widths,
        "8192-wide-convolutions": wide_convs,
        "self-attention-at-1024": attention_everywhere,
        "negative-classes": changed(num_classes=-19),
        "classes-as-text": changed(num_classes="19"),
        "classes-as-float": changed(num_classes=19.0),
        "classes-as-bool": changed(num_classes=True),
        "classes-null": changed(num_classes=None),
        "classes-5000": changed(num_classes=5000),
        "resolution-mismatch": changed(resolution=64),
        "style-scales-too-many": changed(style_scales=4),
        "norm-groups-not-dividing": changed(norm_groups=3),
        "unknown-field": changed(evil=1),
        "no-name": {k: v for k, v in tiny_config().items() if k != "name"},
        "name-10k": changed(name="x" * 10_000),
        "stages-object": changed(stages={"0": stage}),
        "stages-of-lists": changed(stages=[[16, False, 2, 8, True]]),
        "stage-missing-field": changed(stages=[{k: v for k, v in stage.items() if k != "heads"}]),
        "stage-heads-0": changed(stages=[dict(stage, heads=0)]),
        "13-stages": changed(stages=[stage] * 13),
        "no-stages": changed(stages=[]),
        "nan-literal": json.dumps(tiny_config()).replace('"style_dim": 8', '"style_dim": NaN'),
        "infinity-literal": json.dumps(tiny_config()).replace('"style_dim": 8', '"style_dim": Infinity'),
        "1e400": json.dumps(tiny_config()).replace('"style_dim": 8', '"style_dim": 1e400'),
        "5000-digit-number": json.dumps(tiny_config()).replace('"style_dim": 8', '"style_dim": ' + "9" * 5000),
        "nested-100000": "[" * 100_000 + "]" * 100_000,
        "not-json": "{model: tiny",
        "json-list": "[1, 2, 3]",
        "json-string": '"tiny"',
        "empty": "",
    }
    return [Case("checkpoints", f"config-{name}", ours(config)) for name, config in variants.items()]


def _tensor_cases() -> list[Case]:
    state = tiny_state()
    key = sorted(state)[0]

    def edited(fn) -> dict[str, torch.Tensor]:
        s = dict(state)
        fn(s)
        return s

    nan = edited(lambda s: s.__setitem__(key, torch.full_like(s[key], float("nan"))))
    inf = edited(lambda s: s.__setitem__(key, torch.full_like(s[key], float("inf"))))
    missing = edited(lambda s: s.pop(key))
    extra = edited(lambda s: s.__setitem__("evil.weight", torch.zeros(3)))
    wrong = edited(lambda s: s.__setitem__(key, torch.zeros(*[d + 1 for d in s[key].shape])))
    as_int = {k: v.to(torch.int8) for k, v in state.items()}
    return [
        Case("checkpoints", "tensors-nan", ours(tiny_config(), nan)),
        Case("checkpoints", "tensors-inf", ours(tiny_config(), inf)),
        Case("checkpoints", "tensor-missing", ours(tiny_config(), missing)),
        Case("checkpoints", "tensor-extra", ours(tiny_config(), extra)),
        Case("checkpoints", "tensor-wrong-shape", ours(tiny_config(), wrong)),
        Case("checkpoints", "tensors-as-int8", ours(tiny_config(), as_int), valid=True),
        Case("checkpoints", "no-config", ours(None)),
        Case("checkpoints", "no-metadata", lambda f: _plain_safetensors(f, state)),
        Case("checkpoints", "truncated-safetensors", lambda f: _cut(ours(tiny_config())(f), 0.6)),
        Case("checkpoints", "header-length-2^60",
             lambda f: write(f, "w.safetensors", struct.pack("<Q", 2**60) + b"{}")),
        Case("checkpoints", "header-not-json", lambda f: write(f, "w.safetensors", struct.pack("<Q", 5) + b"{{{{{")),
        Case("checkpoints", "header-nested", lambda f: _raw_header(f, "[" * 50_000 + "]" * 50_000)),
        Case("checkpoints", "offsets-past-end", lambda f: _raw_header(f, json.dumps(
            {"x": {"dtype": "F32", "shape": [1 << 30], "data_offsets": [0, 4 << 30]}}))),
        Case("checkpoints", "shape-overflow", lambda f: _raw_header(f, json.dumps(
            {"x": {"dtype": "F32", "shape": [2**62, 2**62], "data_offsets": [0, 16]}}), b"\0" * 16)),
    ]


def _plain_safetensors(folder: Path, state: dict[str, torch.Tensor]) -> Path:
    return write(folder, "w.safetensors", save(state))


def _cut(path: Path, fraction: float) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def _raw_header(folder: Path, header: str, body: bytes = b"") -> Path:
    raw = header.encode()
    return write(folder, "w.safetensors", struct.pack("<Q", len(raw)) + raw + body)


# ---- pickles ----------------------------------------------------------------------------------------
class _Reduce:
    """Pickles as a call of ``fn(*args)``: what a hostile checkpoint does to run code on load."""

    def __init__(self, fn, *args) -> None:
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def _hostile(kind: str):
    def make(folder: Path) -> Path:
        marker = str(folder.parent / MARKER)
        path = folder / "latest_net_G.pth"
        import builtins
        import os

        payloads = {
            "os-system": _Reduce(os.system, f"touch {marker}"),
            "builtins-open": _Reduce(builtins.open, marker, "w"),
            "builtins-exec": _Reduce(builtins.exec, f"open({marker!r}, 'w').close()"),
            "builtins-eval": _Reduce(builtins.eval, f"open({marker!r}, 'w')"),
        }
        if kind in payloads:  # PyTorch's zip format, as torch.save writes it
            torch.save({"style_encoder.out.out_0.0.weight": torch.zeros(1), "evil": payloads[kind]}, path)
        elif kind == "legacy-pickle":  # the old (pre-zip) format: a bare pickle stream
            path.write_bytes(pickle.dumps({"x": _Reduce(os.system, f"touch {marker}")}, protocol=2))
        elif kind == "protocol-0-text":
            path.write_bytes(f"cos\nsystem\n(S'touch {marker}'\ntR.".encode())
        elif kind == "subprocess-popen":
            import subprocess

            path.write_bytes(pickle.dumps(_Reduce(subprocess.Popen, ["touch", marker])))
        elif kind == "deep-nesting":
            path.write_bytes(b"(" * 200_000 + b"l" + b"a" * 0 + b".")
        elif kind == "memo-bomb":  # a list that holds itself a million times over
            path.write_bytes(b"\x80\x02]q\x00" + b"h\x00" * 1_000_000 + b"e.")
        return path

    return make


def _foreign() -> list[Case]:
    def saved(obj):
        def make(folder: Path) -> Path:
            path = folder / "foreign.pth"
            torch.save(obj, path)
            return path

        return make

    expanded = {"style_encoder.out.out_0.0.weight": torch.zeros(1).expand(256 * 100_000, 1280, 1, 1)}
    thousand = {"style_encoder.out.out_0.0.weight": torch.zeros(1).expand(256 * 1000, 1280, 1, 1)}
    return [
        Case("checkpoints", "foreign-linear", saved(torch.nn.Linear(4, 3).state_dict())),
        Case("checkpoints", "foreign-list", saved([torch.zeros(3)])),
        Case("checkpoints", "foreign-tensor", saved(torch.zeros(3))),
        Case("checkpoints", "foreign-nested", saved({"state_dict": {"a": {"b": torch.zeros(1)}}})),
        Case("checkpoints", "foreign-ints", saved({"style_encoder.out.out_0.0.weight": 3})),
        Case("checkpoints", "foreign-wrapped", saved({"state_dict": {"module.x": torch.zeros(2)}})),
        Case("checkpoints", "authors-key-1-class", saved({"style_encoder.out.out_0.0.weight": torch.zeros(256, 8)})),
        Case("checkpoints", "authors-key-odd-width", saved({"style_encoder.out.out_0.0.weight": torch.zeros(300, 8)})),
        Case("checkpoints", "authors-key-100000-classes", saved(expanded)),
        Case("checkpoints", "authors-key-1000-classes", saved(thousand)),
        Case("checkpoints", "safetensors-named-pth", lambda f: write(f, "x.pth", save(tiny_state()))),
        Case("checkpoints", "zip-not-torch", lambda f: write(f, "x.pth", _zip({"a.txt": b"hello"}))),
        Case("checkpoints", "zip-bomb-pth",
             lambda f: write(f, "x.pth", _zip_declaring("archive/data/0", 4_000_000_000))),
    ]


def _zip(members: dict[str, bytes]) -> bytes:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _zip_declaring(name: str, size: int) -> bytes:
    """A zip whose directory says ``name`` unpacks to ``size`` bytes (the data is tiny)."""
    from tests.bad_inputs.projects import lying_zip

    return lying_zip({name: b"\0" * 16}, {name: size})


def cases() -> list[Case]:
    hostile = ["os-system", "builtins-open", "builtins-exec", "builtins-eval", "legacy-pickle", "protocol-0-text",
               "subprocess-popen", "deep-nesting", "memo-bomb"]
    return [
        *not_files("checkpoints", ".safetensors"),
        *garbage("checkpoints", ".pth"),
        *[Case("checkpoints", f"pickle-{kind}", _hostile(kind)) for kind in hostile],
        *_foreign(),
        *_config_cases(),
        *_tensor_cases(),
    ]
