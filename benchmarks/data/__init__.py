"""Data plumbing: checksummed downloads and cache, readers per format, synthetic generators."""
