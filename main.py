"""CA2SIS Studio: a face editor driven by (CA)²-SIS.

``python main.py`` opens the editor; subcommands run the library from the command line:

    render    render one image from a mask and styles
    parse     turn portrait photos into 19-class masks
    train     train the synthesis model (or the bundled face parser: ``train parser``)
    evaluate  FID, segmentation and reconstruction metrics of a model on a test folder
    models    list, verify and register model weights
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Subcommand → module under ca2sis.cli; each module has add_arguments(parser) and run(args) -> int.
# Imported lazily so that `main.py render` does not pay for the GUI and the GUI not for training.
SUBCOMMANDS = {
    "render": "Render one image from a mask and the styles of a photo (or random styles).",
    "parse": "Parse portrait photos into 19-class index masks.",
    "train": "Train the (CA)²-SIS model, its mapping network, or the bundled face parser.",
    "evaluate": "Evaluate a model on a test folder (FID, parser mIoU, reconstruction).",
    "models": "List installed and missing model weights; register the authors' checkpoint.",
}


def editor_help() -> str:
    """The editor's own options (app.launch), for the help of main.py itself: with no COMMAND it is the editor."""
    from app.launch import build_parser as editor_parser  # argparse only: no Qt is imported for --help

    options = editor_parser().format_help().split("options:\n", 1)[-1]
    options = "\n".join(line for line in options.splitlines() if not line.lstrip().startswith("-h, --help"))
    return ("With no COMMAND, main.py opens the editor (python main.py --open photo.jpg opens a photo in it).\n\n"
            f"editor options:\n{options}")


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="main.py", usage="%(prog)s [--open FILE] [editor options] | %(prog)s COMMAND ...",
        description=__doc__.split("\n\n")[0], epilog=editor_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = next((a for a in argv if not a.startswith("-")), None)
    for name, help_text in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == wanted:  # only the chosen subcommand's module is imported
            importlib.import_module(f"ca2sis.cli.{name}").add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in SUBCOMMANDS and argv[0] not in ("-h", "--help"):
        from app.launch import main as launch_gui  # GUI options such as --screenshot, --open

        return launch_gui(argv)
    if argv[:2] == ["train", "parser"]:  # the bundled face parser has its own trainer
        from ca2sis.cli import train_parser

        sub = argparse.ArgumentParser(prog="main.py train parser", description="Train the bundled face parser.")
        train_parser.add_arguments(sub)
        return int(train_parser.run(sub.parse_args(argv[2:])) or 0)
    args = build_parser(argv).parse_args(argv)
    module = importlib.import_module(f"ca2sis.cli.{args.command}")
    return int(module.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
