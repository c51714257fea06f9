"""Speed and memory benchmarks of MLSD Bench: not tests, not installed; each writes a table in results/perf/.

Run one from the repository root as a module, ``python -m perf.NAME``, so that it imports the checkout's
``benchmarks`` and its sibling helpers (``perf.footer``, ``perf.stages``).
"""
