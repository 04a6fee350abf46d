"""Several parser nets as one: their class log-probabilities averaged.

Nets built differently (ImageNet features against a small net trained from scratch) err in
different places, so the mean of their log-probabilities labels more pixels right than either net
alone (``models/parser/SCORES.md``). Members see the face at the same input size; their logits are
averaged at output resolution, before the one upsampling the caller does, so an ensemble costs its
members' forward passes and nothing more.

A member can also parse the mirrored face and average the two answers (its "left eye" channel on the
mirror image is the right eye: ``flip_lut`` swaps them back). That costs a second forward pass of the
member; for a small net on a CPU with two threads the pair runs as one batch of two in about the time
of one, so mirroring only the cheap member buys most of what mirroring all of them would.

An ensemble file is one safetensors file: each member's weights under ``members.<i>.``, and in the
metadata each member's architecture and its own training metadata (source, validation score).
``ca2sis.parsing.network.load_parser_net`` loads single nets and ensembles alike.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ca2sis.parsing.network import FaceParserNet, ParserNetConfig, write_parser_file

ENSEMBLE_FORMAT = "ca2sis-face-parser-ensemble-1"


@dataclass(frozen=True)
class EnsembleConfig:
    """What callers read off any parser net (``input_size``, ``num_classes``), and the members'."""

    members: tuple[ParserNetConfig, ...]

    @property
    def input_size(self) -> int:
        return self.members[0].input_size

    @property
    def num_classes(self) -> int:
        return self.members[0].num_classes


def _log_probabilities(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return net(x).float().log_softmax(1)


def mirror_averaged(predict: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor,
                    flip_lut: torch.Tensor) -> torch.Tensor:
    """The mean of ``predict`` on the faces and on their mirror images, run as one batch; the mirror's
    answer is flipped back and its classes mapped by ``flip_lut`` (its "left eye" is the right eye)."""
    n = x.shape[0]
    both = predict(torch.cat([x, x.flip(-1)]))
    return (both[:n] + both[n:].flip(-1)[:, flip_lut]) / 2


class ParserEnsemble(nn.Module):
    """Member nets → the mean of their class log-probabilities (usable as logits)."""

    def __init__(self, members: Sequence[FaceParserNet]) -> None:
        super().__init__()
        if len(members) < 2:
            raise ValueError(f"an ensemble needs at least two parser nets, got {len(members)}")
        first = members[0].config
        for i, m in enumerate(members[1:], start=1):
            for field in ("input_size", "num_classes"):
                if getattr(m.config, field) != getattr(first, field):
                    raise ValueError(f"member {i} has {field} {getattr(m.config, field)}, member 0 has "
                                     f"{getattr(first, field)}: members must see and label faces alike")
        self.members = nn.ModuleList(members)
        self.config = EnsembleConfig(tuple(m.config for m in members))

    def forward(self, x: torch.Tensor, mirrored: Sequence[int] = (),
                flip_lut: torch.Tensor | None = None) -> torch.Tensor:
        """Mean class log-probabilities; members listed in ``mirrored`` first average their own answer
        with their answer on the mirrored face, whose classes ``flip_lut`` maps back (left ↔ right)."""
        if mirrored and flip_lut is None:
            raise ValueError("mirrored members need flip_lut, the class each class becomes in a mirror")
        outs = []
        for i, member in enumerate(self.members):
            predict = partial(_log_probabilities, member)
            outs.append(mirror_averaged(predict, x, flip_lut) if i in mirrored else predict(x))
        side = max(o.shape[-1] for o in outs)  # members may predict at different strides
        outs = [o if o.shape[-1] == side else F.interpolate(o, size=(side, side), mode="bilinear",
                                                            align_corners=False) for o in outs]
        return torch.stack(outs).mean(0)


def mirror_members_of(net: nn.Module, meta: dict[str, str], path: str | Path = "") -> tuple[int, ...]:
    """The member indices a parser file's metadata names under ``mirror_members`` (none if absent)."""
    raw = meta.get("mirror_members")
    if raw is None:
        return ()
    count = len(net.members) if isinstance(net, ParserEnsemble) else 0
    try:
        picked = json.loads(raw)
        ok = isinstance(picked, list) and all(type(i) is int and 0 <= i < count for i in picked)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{path}: mirror_members must list member indices of an ensemble "
                         f"(0 to {count - 1}), got {raw!r}" if count else
                         f"{path}: mirror_members names ensemble members, but this file holds one net")
    return tuple(sorted(set(picked)))


def save_parser_ensemble(path: str | Path, members: Sequence[FaceParserNet],
                         member_meta: Sequence[dict[str, str]] | None = None,
                         extra: dict[str, str] | None = None) -> None:
    """One safetensors file holding every member (atomic write)."""
    ensemble = ParserEnsemble(members)  # checks that the members fit together
    write_parser_file(path, ensemble, {
        "format": ENSEMBLE_FORMAT,
        "members": json.dumps([m.config.to_json() for m in members]),
        "member_meta": json.dumps(list(member_meta or [{} for _ in members])),
        **(extra or {}),
    })


def ensemble_from_file(path: Path, meta: dict[str, str]) -> ParserEnsemble:
    """Build and load the ensemble a file's metadata describes (called by ``load_parser_net``)."""
    from safetensors.torch import load_file

    try:
        configs = [ParserNetConfig.from_json(c) for c in json.loads(meta["members"])]
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path}: a parser-ensemble file without a readable member list ({exc})") from exc
    ensemble = ParserEnsemble([FaceParserNet(c) for c in configs])
    ensemble.load_state_dict(load_file(str(path)))
    return ensemble.eval()


def join_parser_files(paths: Sequence[str | Path], out: str | Path, extra: dict[str, str] | None = None) -> None:
    """Write the ensemble of these single-net parser files to ``out``."""
    from ca2sis.parsing.network import load_parser_net

    members, metas = [], []
    for p in paths:
        net, meta = load_parser_net(p)
        if not isinstance(net, FaceParserNet):
            raise ValueError(f"{p}: already an ensemble; join its members' own files instead")
        members.append(net)
        metas.append({"source": Path(p).name, **{k: v for k, v in meta.items() if k not in ("config", "format")}})
    save_parser_ensemble(out, members, metas, extra)
