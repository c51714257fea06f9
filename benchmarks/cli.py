"""The command line. Each sub-command is one module in ``benchmarks/commands/`` exposing
``NAME``, ``HELP``, ``add_arguments(parser)`` and ``main(args) -> int``; they are found
automatically, so a new command is one new file."""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import pkgutil
import sys
import warnings
from types import ModuleType

from benchmarks import __version__, commands
from benchmarks.errors import UserError


def _command_modules() -> list[ModuleType]:
    names = sorted(info.name for info in pkgutil.iter_modules(commands.__path__) if not info.name.startswith("_"))
    modules = [importlib.import_module(f"{commands.__name__}.{name}") for name in names]
    return [module for module in modules if hasattr(module, "NAME") and hasattr(module, "main")]


class UsageError(Exception):
    """A command line argparse refuses (an unknown option, a value of the wrong type)."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad command line is one error line (no usage block, no SystemExit inside ``main``)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message} (see: {self.prog} --help)")


@functools.cache
def build_parser() -> argparse.ArgumentParser:
    """The whole command line, built once per process (argparse takes ~0.1 s to build it; parsing leaves it unchanged)."""
    parser = _Parser(prog="python -m benchmarks",
                     description="MLSD Bench: run ML-system-design benchmarks and build leaderboards.")
    parser.add_argument("--version", action="version", version=f"mlsd-bench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        command = sub.add_parser(module.NAME, help=module.HELP, description=getattr(module, "DESCRIPTION", module.HELP))
        module.add_arguments(command)
        command.set_defaults(handler=module.main)
    return parser


def one_line(text: object) -> str:
    """An error message as one line: its line breaks become ``; ``."""
    return "; ".join(part.strip() for part in str(text).splitlines() if part.strip())


def describe(error: BaseException) -> str:
    """An unexpected exception as one line: a file error names its file; anything else asks for a bug report."""
    if isinstance(error, OSError):
        where = f"{error.filename}: " if getattr(error, "filename", None) else ""
        return one_line(f"{where}{error.strerror or error} ({type(error).__name__})")
    if isinstance(error, ValueError):
        return one_line(f"{error} ({type(error).__name__})")
    return one_line(f"internal error: {type(error).__name__}: {error} (MLSD_TRACEBACK=1 shows the traceback; "
                    "please report it)")


def main(argv: list[str] | None = None) -> int:
    """Run one command; every error the user can meet is one ``error: ...`` line on stderr and a non-zero exit.

    Exit status: 0 ok, 1 the command's own verdict (a failing check, every job failed), 2 a bad input, 130 Ctrl-C.
    ``MLSD_TRACEBACK=1`` lets an unexpected exception's traceback through (for bug reports).
    """
    if argv is None:  # the real command line: a warning is one line too (no source line under it)
        warnings.formatwarning = lambda message, *_: f"warning: {one_line(message)}\n"
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "handler", None):
            parser.print_help()
            return 2
        return int(args.handler(args) or 0)
    except (UsageError, UserError) as error:
        print(f"error: {one_line(error)}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (`... | head`): no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as error:  # noqa: BLE001 - one line for the user, the traceback on request
        if os.environ.get("MLSD_TRACEBACK") == "1":
            raise
        print(f"error: {describe(error)}", file=sys.stderr)
        return 2 if isinstance(error, (OSError, ValueError)) else 3
    except KeyboardInterrupt as interrupt:
        after = {None: "", True: ": finished records are saved and the leaderboards are up to date",
                 False: ": finished records are saved; the leaderboards could not be updated "
                        "(run: python -m benchmarks leaderboard)"}
        print("\ninterrupted" + after[getattr(interrupt, "leaderboards_written", None)], file=sys.stderr)
        return 130
