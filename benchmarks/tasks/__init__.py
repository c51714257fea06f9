"""Built-in tasks: every module here is imported by discovery and registers its tasks."""
