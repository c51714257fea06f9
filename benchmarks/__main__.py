"""``python -m benchmarks``: the command line (same as the ``mlsd-bench`` script).

A folder named ``benchmarks/`` in the working directory can shadow this package (Python finds it
first); then this file still runs, says so, and loads the real package from beside itself.
"""

import importlib.util
import sys
from pathlib import Path


def _unshadow() -> None:
    here = Path(__file__).resolve().parent
    found = sys.modules.get("benchmarks")
    location = getattr(found, "__file__", None)
    if location is not None and Path(location).resolve().parent == here:
        return
    where = ", ".join(getattr(found, "__path__", [])) or "another module"
    print(f"warning: {where} shadows MLSD Bench's package `benchmarks` ({here}); using the real one. "
          "Rename the local folder to silence this.", file=sys.stderr)
    for name in [n for n in sys.modules if n == "benchmarks" or (n.startswith("benchmarks.") and n != "benchmarks.__main__")]:
        del sys.modules[name]
    spec = importlib.util.spec_from_file_location("benchmarks", here / "__init__.py", submodule_search_locations=[str(here)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["benchmarks"] = module
    spec.loader.exec_module(module)


_unshadow()

from benchmarks.cli import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
