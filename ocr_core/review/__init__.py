"""Applying a reviewer's corrections to a run's results."""
