"""Command-line front ends; each module has ``add_arguments(parser)`` and ``run(args) -> int``."""
