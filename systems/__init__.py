"""Systems: every module below this folder is imported by discovery; one file adds one system."""
