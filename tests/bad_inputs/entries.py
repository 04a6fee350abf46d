"""The entry points a bad input can reach, each fed every category it accepts.

An entry point is a name, the categories it takes, and how to run one case: which command line
(or library call) carries the bad input, with good companions for everything else, and which folders
it may write to. A new entry point joins the corpus by adding one :class:`Entry` here (or in
``tests/bad_inputs/gui.py`` for the editor); every case of its categories then runs through it.
"""

from __future__ import annotations

import functools
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from tests.bad_inputs.case import Case
from tests.bad_inputs.harness import Outcome, Sandbox, python_main, run_case


@dataclass(frozen=True)
class Companions:
    """Good inputs that go with a bad one (read only, shared by every run)."""

    weights: Path  # a tiny model
    face: Path  # a 32² photo
    mask: Path  # its index mask
    data: Path  # a test folder of two pairs, for evaluate


@functools.cache
def companions(root: Path) -> Companions:
    import torch

    from ca2sis.checkpoint import save_model
    from ca2sis.config import preset
    from ca2sis.data.synthetic import write_synthetic_pairs
    from ca2sis.model import CA2SIS

    root.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    save_model(root / "tiny.safetensors", CA2SIS(preset("tiny")))
    rng = np.random.default_rng(0)
    mask = np.ones((32, 32), np.uint8)
    mask[8:24, 8:24] = 13
    Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(root / "face.png")
    Image.fromarray(mask).save(root / "mask.png")
    write_synthetic_pairs(root / "data", count=2, size=32, seed=1)
    return Companions(root / "tiny.safetensors", root / "face.png", root / "mask.png", root / "data")


Runner = Callable[[Case, Sandbox, Companions], Outcome]


@dataclass(frozen=True)
class Entry:
    name: str
    categories: tuple[str, ...]
    run: Runner
    kind: str = "cli"  # cli | library | gui
    argv: Callable[[Case, Sandbox, Companions, Path | str], list[str]] | None = None  # the command line, for
    # the subprocess sweep (cli entries only)
    skip: frozenset[str] = frozenset()  # case ids that are not bad for this entry point
    lenient: tuple[str, ...] = ()  # categories whose bad cases are good input of another kind here
    share: int = 1  # a costly entry point takes a smaller share of the cases in the default run
    check: Callable[[Case, Sandbox, Outcome], None] | None = None  # what else an outcome must show

    def takes(self, case: Case) -> bool:
        return case.category in self.categories and case.id not in self.skip

    def failures(self, outcome: Outcome, case: Case) -> list[str]:
        return outcome.failures(case, may_accept=case.valid or case.category in self.lenient)


# ---- command lines ------------------------------------------------------------------------------------
def render_argv(case: Case, box: Sandbox, good: Companions, value: Path | str) -> list[str]:
    args = {"--weights": good.weights, "--mask": good.mask, "--device": "cpu", "--out": box.out / "render.png"}
    if case.category == "images":
        args |= {"--style-image": value, "--style-mask": good.mask}
    elif case.category == "masks":
        args |= {"--mask": value, "--style-image": good.face}
    else:
        args[{"checkpoints": "--weights", "devices": "--device", "outputs": "--out"}[case.category]] = value
    return ["render", *[str(x) for pair in args.items() for x in pair]]


def parse_argv(case: Case, box: Sandbox, good: Companions, value: Path | str) -> list[str]:
    photo, out, device = good.face, box.out / "mask.png", "cpu"
    if case.category == "images":
        photo = value
    elif case.category == "devices":
        device = value
    else:
        out = value
    return ["parse", str(photo), "-o", str(out), "--aligned", "--device", str(device)]


def evaluate_argv(case: Case, box: Sandbox, good: Companions, value: Path | str) -> list[str]:
    args = {"--weights": good.weights, "--data": good.data, "--device": "cpu", "--json": box.out / "report.json"}
    if case.category == "images":  # a test folder whose second image is the bad one
        args["--data"] = _data_with(box, good, value)
    else:
        args[{"checkpoints": "--weights", "devices": "--device", "outputs": "--json"}[case.category]] = value
    return ["evaluate", *[str(x) for pair in args.items() for x in pair], "--fid", "off", "--parser", "off",
            "--batch-size", "2"]


def _data_with(box: Sandbox, good: Companions, bad: Path | str) -> Path:
    data = box.inputs / "data"
    shutil.copytree(good.data, data)
    images = sorted((data / "images").iterdir())
    second = images[1]
    second.unlink()
    bad = Path(bad)
    if bad.is_symlink() or bad.exists():
        bad.rename(second.with_suffix(bad.suffix or ".png"))
    return data


def models_add_argv(case: Case, box: Sandbox, good: Companions, value: Path | str) -> list[str]:
    if case.category == "names":
        return ["models", "add", str(good.weights), "--name", str(value)]
    if case.category == "manifests":
        _place_manifest(box, value)
        return ["models", "add", str(good.weights)]
    return ["models", "add", str(value)]


def models_list_argv(case: Case, box: Sandbox, good: Companions, value: Path | str) -> list[str]:
    _place_manifest(box, value)
    return ["models"]


def _place_manifest(box: Sandbox, made: Path | str) -> Path:
    target = box.models / "manifest.json"
    if not target.exists() and not target.is_symlink():
        Path(made).rename(target)
    return target


def cli(name: str, categories: tuple[str, ...], argv, allowed: Callable[[Sandbox], tuple[Path, ...]],
        check: Callable[[Case, Sandbox, Outcome], None] | None = None, skip: frozenset[str] = frozenset(),
        share: int = 1) -> Entry:
    def run(case: Case, box: Sandbox, good: Companions) -> Outcome:
        return run_case(name, case, box, python_main, allowed(box), (lambda o: check(case, box, o)) if check else None,
                        lambda value: argv(case, box, good, value))

    return Entry(name, categories, run, "cli", argv, skip, share=share, check=check)


def _honest_report(case: Case, box: Sandbox, outcome: Outcome) -> None:
    """evaluate with one bad sample among two: the report counts only what it scored."""
    report_path = box.out / "report.json"
    if case.category != "images" or outcome.refused or not report_path.exists():
        return
    report = json.loads(report_path.read_text())
    if not case.valid and report["images"] != 1:
        outcome.problems.append(f"'images' is {report['images']} with one unreadable sample of two")
    if report["images"] + len(report.get("skipped", [])) > 2:
        outcome.problems.append(f"{report['images']} images and {len(report['skipped'])} skipped out of two")
    # the bad sample was dealt with (scored or listed), so the run counts as handled, not as a refusal
    outcome.refused = True
    outcome.message = outcome.message or "report written"


def _nothing_outside(case: Case, box: Sandbox, outcome: Outcome) -> None:
    for suffix in (".safetensors", ".pth"):  # an absolute --name must not land in /tmp
        if case.category == "names" and Path(f"/tmp/x{suffix}").exists():
            outcome.escapes.append(f"/tmp/x{suffix}")


def _out(box: Sandbox) -> tuple[Path, ...]:
    return (box.out,)


def _models(box: Sandbox) -> tuple[Path, ...]:
    return (box.models,)


CLI = [
    cli("render", ("images", "masks", "checkpoints", "devices", "outputs"), render_argv, _out),
    # parse -o takes a folder too: ".", ".." and "/" are folders a mask may go to, not bad outputs
    cli("parse", ("images", "devices", "outputs"), parse_argv, _out,
        skip=frozenset({"outputs/dot", "outputs/dot-dot", "outputs/root"})),
    cli("models add", ("checkpoints", "names", "manifests"), models_add_argv, _models, _nothing_outside),
    cli("models", ("manifests",), models_list_argv, lambda box: ()),
    cli("evaluate", ("images", "checkpoints", "devices", "outputs"), evaluate_argv, _out, _honest_report, share=2),
]


# ---- library functions ---------------------------------------------------------------------------------
def library(name: str, categories: tuple[str, ...], fn: Callable[[Path | str, Companions], object],
            refusals: tuple[type[BaseException], ...], allowed=lambda box: (), prepare=None) -> Entry:
    """A library call: a refusal is one of ``refusals`` with a message; any other exception escapes."""

    def run(case: Case, box: Sandbox, good: Companions) -> Outcome:
        def call(value: Path | str) -> tuple[bool, str]:
            try:
                fn(value, good)
            except refusals as exc:
                return True, str(exc)
            return False, ""

        return run_case(name, case, box, call, allowed(box), None, prepare and (lambda v: prepare(box, v)))

    return Entry(name, categories, run, "library")


def _load_image(value, good):
    from ca2sis.photo import load_image

    return load_image(value)


def _load_mask(value, good):
    from ca2sis.photo import load_mask

    return load_mask(value)


def _load_project(value, good):
    from app.project_io import load_project

    return load_project(value)


def _load_model(value, good):
    from ca2sis.checkpoint import load_model

    return load_model(value)


def _register_file(value, good):
    from ca2sis.weights import register_model

    return register_model(value)


def _register_name(value, good):
    from ca2sis.weights import register_model

    return register_model(good.weights, name=value)


def _device(value, good):
    from ca2sis.device import resolve_device

    return resolve_device(value)


def _check_output(value, good):
    from ca2sis.safe_files import check_output

    return check_output(value)


def _catalog(value, good):
    from ca2sis import weights

    return weights.catalog().all()


def _refusals():
    from ca2sis.safe_files import FileRefused

    return (FileRefused, ValueError, FileNotFoundError)


LIBRARY = [
    library("load_image", ("images",), _load_image, _refusals()),
    library("load_mask", ("masks",), _load_mask, _refusals()),
    library("load_project", ("projects",), _load_project, _refusals()),
    library("load_model", ("checkpoints",), _load_model, _refusals()),
    library("register_model", ("checkpoints",), _register_file, _refusals(), _models),
    library("register_model --name", ("names",), _register_name, _refusals(), _models),
    library("resolve_device", ("devices",), _device, _refusals()),
    library("check_output", ("outputs",), _check_output, _refusals()),
    library("model catalog", ("manifests",), _catalog, _refusals(), prepare=_place_manifest),
]

ENTRIES: list[Entry] = [*CLI, *LIBRARY]
