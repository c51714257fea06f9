"""The command line. Each sub-command is one module in ``benchmarks/commands/`` exposing
``NAME``, ``HELP``, ``add_arguments(parser)`` and ``main(args) -> int``; they are found
automatically, so a new command is one new file."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from types import ModuleType

from benchmarks import __version__, commands
from benchmarks.errors import UserError


def _command_modules() -> list[ModuleType]:
    found = []
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        if hasattr(module, "NAME") and hasattr(module, "main"):
            found.append(module)
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="MLSD Bench: run ML-system-design benchmarks and build leaderboards.",
    )
    parser.add_argument("--version", action="version", version=f"mlsd-bench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        command = sub.add_parser(module.NAME, help=module.HELP, description=getattr(module, "DESCRIPTION", module.HELP))
        module.add_arguments(command)
        command.set_defaults(handler=module.main)
    return parser


def _one_line_warnings() -> None:
    """Print the harness's own warnings (a skipped record, a value recorded as its repr) as one line, without the
    source line; other libraries' warnings as Python prints them."""
    import warnings
    from pathlib import Path

    package = Path(__file__).resolve().parent
    default = warnings.formatwarning

    def formatted(message: Warning | str, category: type[Warning], filename: str, lineno: int, line: str | None = None) -> str:
        if Path(filename).resolve().is_relative_to(package):
            return f"warning: {message}\n"
        return default(message, category, filename, lineno, line)

    warnings.formatwarning = formatted


def main(argv: list[str] | None = None) -> int:
    _one_line_warnings()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (`... | head`): no traceback
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt as interrupt:
        written = getattr(interrupt, "leaderboards_written", None)
        if written is None:
            print("\ninterrupted", file=sys.stderr)
        elif written:
            print("\ninterrupted: finished records are saved and the leaderboards are up to date", file=sys.stderr)
        else:
            print("\ninterrupted: finished records are saved; the leaderboards could not be updated "
                  "(run: python -m benchmarks leaderboard)", file=sys.stderr)
        return 130
