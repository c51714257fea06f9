"""CLI commands: each module here is one sub-command (``NAME``, ``HELP``, ``add_arguments``, ``main``)."""
