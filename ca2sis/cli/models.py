"""``python main.py models``: what model weights are installed, what is missing and how to get it.

    python main.py models                       # list installed and missing models, with download steps
    python main.py models add latest_net_G.pth  # register the authors' checkpoint (it becomes the default)
    python main.py models verify [NAME ...]     # check SHA-256 checksums against the manifests
    python main.py models join-parsers A B --out FILE   # one parser file averaging A's and B's nets
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from ca2sis.cli import metadata_pairs


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION")
    sub.add_parser("list", help="list installed and missing models (the default)")
    add = sub.add_parser("add", help="register a generator checkpoint (the authors' latest_net_G.pth or ours)")
    add.add_argument("path", type=Path, metavar="PATH")
    add.add_argument("--name", help="name to register it under (default: ca2sis-celebamask-256 for the "
                                    "authors' file, else the file's stem)")
    default = add.add_mutually_exclusive_group()
    default.add_argument("--default", dest="make_default", action="store_true", default=None,
                         help="make it the default model (automatic for the authors' checkpoint)")
    default.add_argument("--no-default", dest="make_default", action="store_false",
                         help="register without making it the default")
    verify = sub.add_parser("verify", help="check installed models' SHA-256 against the manifests")
    verify.add_argument("names", nargs="*", metavar="NAME", help="models to check (default: all installed)")
    join = sub.add_parser("join-parsers", help="write one face-parser file that averages several parser nets "
                                               "(e.g. two training runs' best.safetensors)")
    join.add_argument("members", nargs="+", type=Path, metavar="FILE", help="single-net parser files (two or more)")
    join.add_argument("--out", type=Path, required=True, help="the ensemble file to write")
    join.add_argument("--mirror-averaging", action=argparse.BooleanOptionalAction, default=False,
                      help="whether the file asks parsers to also parse the mirrored face and average (twice "
                           "the time; default: no)")
    join.add_argument("--mirror-member", type=int, action="append", default=[], metavar="I",
                      help="only member I (0 = the first file) also parses the mirrored face (repeatable); "
                           "worth it for a small member, whose two passes run as one batch")
    join.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                      help="also record this in the file's metadata (repeatable), e.g. val_miou=0.67 or recipe=...")


def _size(path: Path) -> str:
    return f"{path.stat().st_size / 2**20:.1f} MB"


def _list() -> int:
    from ca2sis import weights
    from ca2sis.paths import BUNDLED_MODELS, user_models_dir

    try:
        cat = weights.catalog()
    except weights.ModelError as exc:  # the manifest as a whole cannot be read
        print(f"models: {exc}", file=sys.stderr)
        return 2
    models = cat.all()
    default = weights.default_model()
    print(f"bundled models: {BUNDLED_MODELS}")
    print(f"your models:    {user_models_dir()}  (set CA2SIS_MODELS to move it)")
    print(f"default synthesis model: {default if default else 'none installed'}\n")
    missing = []
    for kind in weights.KINDS:
        group = [m for m in models if m.entry.kind == kind]
        if not group:
            continue
        print(f"{kind}:")
        for m in group:
            e = m.entry
            size = f"{e.resolution}²" if e.resolution else ""
            mark = "installed" if m.installed else "MISSING"
            star = " *default*" if default is not None and m.installed and m.path == default else ""
            print(f"  {e.name:<24} {mark:<9} {size:<5} {(_size(m.path) if m.installed else ''):>9}{star}")
            if e.description:
                print(f"      {e.description}")
            if not m.installed:
                missing.append(m)
        print()
    for problem in cat.problems:
        print(f"warning: {problem}", file=sys.stderr)
    if missing:
        print("To add what is missing:")
        for m in missing:
            print(f"  {m.entry.name}: {weights.how_to_get(m.entry)}")
            if m.entry.url and m.entry.instructions:
                print(f"      URL: {m.entry.url}")
            print(f"      goes to: {m.path}")
    return 0


def _add(args: argparse.Namespace) -> int:
    from ca2sis import weights

    try:
        if args.name is not None:
            weights.check_name(args.name)  # refused before the file is even read
        entry = weights.register_model(args.path, name=args.name, make_default=args.make_default)
    except weights.ModelError as exc:
        print(f"models add: {exc}", file=sys.stderr)
        return 2
    path = weights.model_path(entry.name)
    is_default = weights.default_model() == path
    print(f"registered {entry.name!r}: {entry.preset}, {entry.resolution}², {entry.classes} classes, "
          f"sha256 {entry.sha256[:16]}… → {path}{' (now the default)' if is_default else ''}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from ca2sis import weights

    try:
        names = args.names or [m.entry.name for m in weights.list_models() if m.installed]
    except weights.ModelError as exc:
        print(f"models verify: {exc}", file=sys.stderr)
        return 2
    failed = 0
    for name in names:
        try:
            entry = weights.catalog().get(name).entry
            path = weights.verify(name)
        except weights.ModelError as exc:
            print(f"FAIL {name}: {exc}")
            failed += 1
            continue
        print(f"ok   {name}: {path}" + ("" if entry.sha256 else " (no checksum recorded)"))
    if not names:
        print("no installed models to verify")
    return 1 if failed else 0


def _join_parsers(args: argparse.Namespace) -> int:
    from ca2sis.parsing.ensemble import join_parser_files

    if len(args.members) < 2:
        print("models join-parsers: give at least two parser files", file=sys.stderr)
        return 2
    missing = [str(p) for p in args.members if not p.is_file()]
    if missing:
        print(f"models join-parsers: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    if args.out.resolve() in {p.resolve() for p in args.members}:
        print("models join-parsers: --out must not be one of the members", file=sys.stderr)
        return 2
    try:
        extra = metadata_pairs(args.set, reserved=("format", "members", "member_meta", "flip_tta", "mirror_members"))
    except ValueError as exc:
        print(f"models join-parsers: {exc}", file=sys.stderr)
        return 2
    bad = [i for i in args.mirror_member if not 0 <= i < len(args.members)]
    if bad:
        print(f"models join-parsers: --mirror-member {bad[0]} is not a member (0 to {len(args.members) - 1})",
              file=sys.stderr)
        return 2
    if args.mirror_member and args.mirror_averaging:
        print("models join-parsers: --mirror-averaging already mirrors every member; drop --mirror-member",
              file=sys.stderr)
        return 2
    extra["flip_tta"] = "true" if args.mirror_averaging else "false"
    mirrored = sorted(set(args.mirror_member))
    if mirrored:
        extra["mirror_members"] = json.dumps(mirrored)
    try:
        join_parser_files(args.members, args.out, extra)
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"models join-parsers: {exc}", file=sys.stderr)
        return 2
    mirroring = "on" if args.mirror_averaging else "for member " + ", ".join(map(str, mirrored)) if mirrored else "off"
    print(f"wrote {args.out} ({_size(args.out)}): {len(args.members)} parser nets, mirror averaging {mirroring}")
    return 0


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    action = getattr(args, "action", None) or "list"
    if action == "add":
        return _add(args)
    if action == "verify":
        return _verify(args)
    if action == "join-parsers":
        return _join_parsers(args)
    return _list()
