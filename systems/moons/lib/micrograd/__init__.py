"""A scalar-valued autograd engine and a tiny neural-net library on top of it (after micrograd)."""
