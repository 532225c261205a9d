"""The report: plots (matplotlib) and one self-contained HTML page per run."""
