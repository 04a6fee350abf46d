"""Package a trained run as the bundled demo model: weights + provenance metadata + manifest checksum.

    python docs/demo/export_model.py --main-run RUNS/00000-demo-128-... \
        [--mapping-run RUNS/00001-demo-128-...-mapping] [--out models/demo-128.safetensors]

The generator comes from the mapping run when one is given (the main run's generator with a trained
mapping network), else from the main run. The file's metadata records the recipe (read back from the
runs' ``config.json``), the step counts, the data split and the licence, and the ``demo-128`` entry
of ``models/manifest.json`` gets the new SHA-256, so ``main.py models verify`` accepts the file.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from ca2sis.atomic import atomic_write_json  # noqa: E402
from ca2sis.checkpoint import CONFIG_KEY, FORMAT_KEY, load_model, read_metadata, save_model  # noqa: E402
from ca2sis.cli import metadata_pairs  # noqa: E402
from ca2sis.weights import sha256_of  # noqa: E402

LICENSE = "CelebAMask-HQ terms: non-commercial research and education only"
# Training-config keys that describe the recipe, in the order a person would type them.
RECIPE_KEYS = {
    "main": ("preset", "perceptual", "batch_size", "epochs", "epochs_decay", "lr_g", "lr_d", "ema", "ema_beta",
             "ema_start", "ema_every",
             "lambda_gan", "lambda_feat", "lambda_perceptual", "lambda_att", "lambda_l1", "l1_blur_sigma",
             "lambda_texture", "texture_classes", "diffaugment", "init_generator", "d_warmup_steps",
             "style_encoder_only"),
    "mapping": ("mapping_init", "d_from_main", "max_steps", "batch_size", "lr_g", "lr_d", "lambda_div"),
}


def _run(folder: Path) -> tuple[dict, dict[str, str]]:
    config = json.loads((folder / "config.json").read_text())
    return config["train"], read_metadata(folder / "generator.safetensors")


def history_with(meta: dict[str, str]) -> str:
    """A file's ``history`` (its earlier stages, oldest first) with the file's own stage appended, as JSON:
    what a file continued from it carries, so that a chain of continued runs keeps its whole story."""
    try:
        history = json.loads(meta.get("history", "[]") or "[]")
    except json.JSONDecodeError:
        history = []
    stage = {k: meta[k] for k in ("source", "step", "hardware", "trained_on") if meta.get(k)}
    return json.dumps([*history, stage])


def _recipe(train: dict, stage: str) -> str:
    parts = [f"--stage {stage}"] if stage != "main" else []
    for key in RECIPE_KEYS[stage]:
        value = train.get(key)
        if value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        if isinstance(value, list | tuple):  # e.g. --texture-classes hair,l_brow
            value = ",".join(map(str, value))
        parts.append(flag if value is True else f"{flag} {value}")
    return "python main.py train " + " ".join(parts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--main-run", type=Path, required=True, help="the main-stage run folder")
    ap.add_argument("--mapping-run", type=Path, help="the mapping-stage run folder trained from it")
    ap.add_argument("--out", type=Path, default=ROOT / "models" / "demo-128.safetensors")
    ap.add_argument("--manifest", type=Path, default=ROOT / "models" / "manifest.json")
    ap.add_argument("--name", default="demo-128", help="the manifest entry to update")
    ap.add_argument("--hardware", default="one shared 2-core CPU, 1 thread, fp32; no GPU")
    ap.add_argument("--data-note", default="CelebAMask-HQ mini set: 800 pairs trained (first 800 by sorted name), "
                                           "last 100 held out")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="add or replace a metadata entry (repeatable), e.g. schedule_note=TEXT")
    args = ap.parse_args(argv)
    try:
        extra = metadata_pairs(args.set, reserved=(CONFIG_KEY, FORMAT_KEY))
    except ValueError as exc:
        ap.error(str(exc))

    main_train, main_meta = _run(args.main_run)
    source_dir = args.mapping_run or args.main_run
    model, _, meta = load_model(source_dir / "generator.safetensors")
    out_meta = {
        "name": args.name,
        "source": "trained by CA2SIS Studio: " + _recipe(main_train, "main"),
        "stage": "main" + (" + mapping" if args.mapping_run else ""),
        "step": main_meta.get("step", "?"),
        "weights": "EMA of the generator" if main_meta.get("ema") == "True" else "the generator",
        "val_reconstruction_l1": main_meta.get("val_reconstruction_l1", ""),
        "mapping": meta.get("mapping", "untrained"),
        "data": args.data_note,
        "hardware": args.hardware,
        "perceptual": main_train.get("perceptual", ""),
        "augmentation": main_train.get("diffaugment", "off") or "off",
        "continued_from": main_train.get("init_generator", "") or "",
        "license": LICENSE,
        "trained_on": datetime.date.today().isoformat(),
    }
    start = main_train.get("init_generator")
    if start and Path(start).is_file():
        # The file a run continued from may be the very file this export replaces: keep its history.
        earlier = read_metadata(Path(start))
        out_meta["continued_from_source"] = earlier.get("source", "")
        out_meta["continued_from_step"] = earlier.get("step", "")
        out_meta["history"] = history_with(earlier)
    if args.mapping_run:
        map_train, map_meta = _run(args.mapping_run)
        out_meta["mapping_source"] = _recipe(map_train, "mapping")
        out_meta["mapping_step"] = map_meta.get("step", "?")
        if meta.get("mapping") == "fitted":
            out_meta["mapping_note"] = ("fitted to the mean and principal directions of the real style codes "
                                        "(ca2sis/train/mapping_init.py); no adversarial mapping steps")
    out_meta.update(extra)
    save_model(args.out, model, out_meta)
    digest = sha256_of(args.out)

    manifest = json.loads(args.manifest.read_text())
    entries = [e for e in manifest["models"] if e.get("name") == args.name]
    if not entries:
        raise SystemExit(f"{args.manifest}: no entry named {args.name!r}")
    entries[0]["sha256"] = digest
    atomic_write_json(args.manifest, manifest)
    size = args.out.stat().st_size / 1e6
    print(f"wrote {args.out} ({size:.1f} MB, sha256 {digest[:12]}…); mapping {out_meta['mapping']}; "
          f"updated {args.manifest.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
