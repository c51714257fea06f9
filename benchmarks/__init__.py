"""MLSD Bench: standard tasks, pluggable systems, a runner and leaderboards for ML system design."""

__version__ = "0.1.0"
