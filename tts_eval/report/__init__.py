"""Reports from finished runs (never a GPU): runs, curves, tables, plots, FLOPs matching."""
