"""Pure metric functions, each checked against an independent oracle in the tests."""
