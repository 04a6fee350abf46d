"""``main.py render``: one image from a mask, with the styles of a photo (or random styles).

    python main.py render --weights latest_net_G.pth --mask layout.png \\
        --style-image photo.png --style-mask photo_mask.png \\
        --swap hair=other.png:other_mask.png --out result.png

The photo is read through its own mask (``--style-mask``; ``--mask`` when omitted, which with the
photo's own mask is a reconstruction). Without a photo every class gets a random style from the
mapping network (``--seed``). ``--fit STEPS`` first fits the model to the photo (``ca2sis.fit``), so
the rendered face is the person in it, and prints the photo's reconstruction PSNR before and after.

``--photo PHOTO`` edits a photo in place: its face is found, aligned and parsed, gives the styles and
(without ``--mask``) the layout, and the render is pasted back into the photo, only where the person
is (:func:`ca2sis.photo.align.paste_edit`), so the output is the whole photo with its own background.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from ca2sis.classes import ClassTable

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--weights", type=Path, help="our .safetensors model or the authors' latest_net_G.pth "
                   "(default: the default installed model, see `main.py models`)")
    p.add_argument("--mask", type=Path, help="the layout to render: an index (or colour) PNG (default with "
                   "--photo: the photo's parsed face)")
    p.add_argument("--photo", type=Path, help="edit this photo: its face gives the styles, the render is pasted "
                   "back into it")
    p.add_argument("--face", type=int, default=None, help="which face of --photo (0 = the largest)")
    p.add_argument("--style-image", type=Path, help="photo whose styles are used")
    p.add_argument("--style-mask", type=Path, help="that photo's own mask (default: --mask)")
    p.add_argument("--swap", action="append", default=[], metavar="CLASS=PHOTO:MASK",
                   help="give one class (name or id) the style of another photo read through its mask; repeatable")
    p.add_argument("--seed", type=int, default=0, help="seed of the random styles when no photo is given")
    p.add_argument("--fit", type=_fit_steps, default=0, metavar="STEPS",
                   help="fit the model to the --style-image photo first, with STEPS optimisation steps in all "
                   "(0: no fit, the default; auto: the editor's default fit)")
    p.add_argument("--fit-seed", type=int, default=0, help="seed of the fit (same seed, same fit)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16", "fp16"])
    p.add_argument("--out", type=Path, required=True, help="output PNG")


def _fit_steps(text: str) -> int | None:
    """``auto`` → None (the default fit); otherwise a step count ≥ 0."""
    if text == "auto":
        return None
    try:
        steps = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of steps or auto, got {text!r}") from None
    if steps < 0:
        raise argparse.ArgumentTypeError(f"the number of fit steps must be 0 or more, got {steps}")
    return steps


def _fit(editor, face_key: str, steps: int | None, seed: int):
    from tqdm import tqdm

    with tqdm(total=1000, desc="fit", unit="‰", leave=False, file=sys.stderr,
              bar_format="{desc}: {percentage:3.0f}% |{bar}| {postfix}") as bar:
        def progress(stage: str, fraction: float) -> None:
            bar.n = round(fraction * 1000)
            bar.set_postfix_str(stage, refresh=True)

        result = editor.fit(face_key, steps=steps, seed=seed, progress=progress)
    print(f"fit: reconstruction PSNR {result.psnr_before:.2f} dB before, {result.psnr_after:.2f} dB after "
          f"({result.steps} steps, {result.seconds:.1f} s, adapters {result.adapter_bytes / 1e6:.2f} MB)")
    return result


def _parse_swap(text: str, classes: ClassTable) -> tuple[int, Path, Path]:
    try:
        name, rest = text.split("=", 1)
        photo, mask = rest.rsplit(":", 1)
    except ValueError:
        raise ValueError(f"--swap {text!r}: expected CLASS=PHOTO.png:PHOTO_MASK.png") from None
    cls = int(name) if name.isdigit() else classes.by_name(name).id
    if not 0 <= cls < len(classes):
        raise ValueError(f"--swap {text!r}: class id {cls} is outside 0..{len(classes) - 1}")
    return cls, Path(photo), Path(mask)


def _default_weights() -> Path:
    try:
        from ca2sis.weights import default_model
    except ImportError:
        default_model = None
    path = default_model() if default_model else None
    if path is None:
        raise FileNotFoundError("no model weights given and none installed; pass --weights FILE "
                                "(see `python main.py models` for what to download and where)")
    return Path(path)


def _class_table(weights: Path) -> ClassTable:
    """The weights' label set from their header (our files carry their config; the authors' is
    CelebAMask-HQ), so that masks are checked before the model is loaded. A header that cannot be
    read gives the default: loading the model then says what is wrong with the file."""
    from ca2sis.checkpoint import CONFIG_KEY, read_metadata
    from ca2sis.classes import CELEBAMASK_HQ
    from ca2sis.config import ModelConfig

    num_classes = 19
    if weights.suffix.lower() == ".safetensors":
        with contextlib.suppress(ValueError, KeyError, TypeError):
            num_classes = ModelConfig.from_json(read_metadata(weights)[CONFIG_KEY]).num_classes
    return CELEBAMASK_HQ if num_classes == 19 else ClassTable.generic(num_classes)


def _open_photo(args: argparse.Namespace):
    from ca2sis.photo.portrait import open_portrait

    if args.style_image or args.style_mask:
        raise ValueError("--photo gives the styles itself; leave out --style-image and --style-mask")
    portrait = open_portrait(args.photo, face_index=args.face)
    for warning in portrait.warnings:
        print(f"{args.photo.name}: {warning}", file=sys.stderr)
    return portrait


def _paste(portrait, result, mask, restyled: set[int], classes: ClassTable):
    """The render back in the photo: the person only, the photo's background kept."""
    import cv2

    from ca2sis.photo.align import paste_edit

    edited = cv2.resize(mask, portrait.mask.shape[::-1], interpolation=cv2.INTER_NEAREST)
    return paste_edit(portrait.photo, result, portrait.transform, portrait.mask, edited, classes, restyled)


def run(args: argparse.Namespace) -> int:
    # Imported here so that `main.py render --help` answers at once.
    from ca2sis.device import resolve_device
    from ca2sis.editor import Editor
    from ca2sis.photo import load_image, load_mask, save_image
    from ca2sis.requests import RenderRequest, StyleSource
    from ca2sis.safe_files import check_output

    try:
        # Every input is read and checked before the model loads, and the output before it runs.
        check_output(args.out, "rendered image", IMAGE_SUFFIXES)
        resolve_device(args.device)
        weights = args.weights or _default_weights()
        classes = _class_table(weights)
        swaps = [_parse_swap(s, classes) for s in args.swap]
        portrait = _open_photo(args) if args.photo else None
        if args.mask is None and portrait is None:
            raise ValueError("give the layout to render with --mask (or a photo to edit with --photo)")
        mask = load_mask(args.mask, classes) if args.mask else portrait.mask
        own = None
        if portrait is not None:
            own = (portrait.aligned, portrait.mask)
        elif args.style_image:
            own = (load_image(args.style_image), load_mask(args.style_mask, classes) if args.style_mask else mask)
        elif args.style_mask:
            raise ValueError("--style-mask needs --style-image")
        if args.fit != 0 and own is None:
            raise ValueError("--fit needs --style-image (or --photo): it fits the model to that photo")
        swapped = [(cls, load_image(photo), load_mask(photo_mask, classes)) for cls, photo, photo_mask in swaps]
        editor = Editor.load(weights, device=args.device, precision=args.precision)
        if editor.classes.name != classes.name:
            raise ValueError(f"{weights}: a model for {editor.classes.name}, not {classes.name}")
        mask_key = editor.add_mask(mask)
        own_key = editor.add_face(*own) if own is not None else None
        fit = _fit(editor, own_key, args.fit, args.fit_seed).key if args.fit != 0 else None
        styles = {cls: StyleSource("reference", reference=editor.add_face(image, image_mask))
                  for cls, image, image_mask in swapped}
        result = editor.render(RenderRequest.build(mask_key, own_key, styles, seed=args.seed, fit=fit))
        image = result.image if portrait is None else _paste(portrait, result.image, mask, set(styles), classes)
        save_image(args.out, image)
    except (ValueError, KeyError, FileNotFoundError, OSError, TypeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {args.out} ({image.shape[1]}×{image.shape[0]}, {editor.device_label}, "
          f"{result.seconds:.2f} s)")
    return 0
