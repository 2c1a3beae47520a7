"""The ``vatl`` command. Each subcommand is a module in :mod:`vatl.commands`.

Adding a command: create ``vatl/commands/<name>.py`` with ``HELP`` (one line), ``add_arguments(parser)``
and ``run(args) -> int``; it is found automatically. Library errors a user can act on are raised as
ValueError / FileNotFoundError with a message naming the file and field; they print as one line, exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

import vatl.commands


def _command_modules() -> dict:
    modules = {}
    for info in pkgutil.iter_modules(vatl.commands.__path__):
        if not info.name.startswith("_"):
            modules[info.name.replace("_", "-")] = importlib.import_module(f"vatl.commands.{info.name}")
    return dict(sorted(modules.items()))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vatl", description="vatl: video-specific active transfer learning "
                                     "of human pose estimators")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in _command_modules().items():
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except (ValueError, FileNotFoundError, KeyError) as exc:
        if args.verbose:
            raise
        print(f"vatl {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"vatl {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
