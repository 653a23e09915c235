"""Benchmarks that print measured figures: run each as ``python -m benchmarks.<name>``."""
