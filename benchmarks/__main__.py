"""``python -m benchmarks``: the command line (same as the ``mlsd-bench`` script)."""

from benchmarks.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
