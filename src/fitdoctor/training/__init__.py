"""Training runs: the run directory, resume after a kill, and the live FitDoctor callback."""
