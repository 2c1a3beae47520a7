"""The ``vatl`` command. Each subcommand is a module in :mod:`vatl.commands`.

Adding a command: create ``vatl/commands/<name>.py`` with ``HELP`` (one line), ``add_arguments(parser)``
and ``run(args) -> int``; it is found automatically. Errors a user can act on (ValueError, OSError,
:class:`vatl.errors.UserError`, each naming the file, field or request) print as one line and exit 2; any
other exception is a defect and prints as one line too, exit 1 (``-v`` shows the traceback).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

import vatl.commands
from vatl.errors import UserError


def command_names() -> list[str]:
    """Every command, from the modules in :mod:`vatl.commands` (found without importing them)."""
    return sorted(info.name.replace("_", "-") for info in pkgutil.iter_modules(vatl.commands.__path__)
                  if not info.name.startswith("_"))


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser. When ``argv`` names a command, only that command's module is imported and its options
    added; otherwise every command is listed by its ``HELP`` line alone (its ``add_arguments`` may import
    heavy modules). Command modules import their heavy parts inside ``run``, so start-up stays short."""
    parser = argparse.ArgumentParser(prog="vatl", description="vatl: video-specific active transfer learning "
                                     "of human pose estimators")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    names = command_names()
    chosen = next((a for a in (argv or []) if not a.startswith("-")), None)
    for name in [chosen] if chosen in names else names:
        module = importlib.import_module(f"vatl.commands.{name.replace('-', '_')}")
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        if chosen in names:
            module.add_arguments(p)
            p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except (ValueError, OSError, UserError) as exc:
        if args.verbose:
            raise
        print(f"vatl {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"vatl {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a defect of vatl, not of the input: still one line, the traceback on -v
        if args.verbose:
            raise
        print(f"vatl {args.command}: internal error: {type(exc).__name__}: {_one_line(exc)} "
              "(run with -v for the traceback and please report it)", file=sys.stderr)
        return 1


def _one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line (OSError without a message: its strerror and file name)."""
    text = str(exc)
    if isinstance(exc, OSError) and exc.filename is not None and str(exc.filename) not in text:
        text = f"{exc.filename}: {exc.strerror or text}"
    return " ".join(text.split()) or type(exc).__name__


if __name__ == "__main__":
    sys.exit(main())
