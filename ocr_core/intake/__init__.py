"""What a run reads: the watched inbox and the inputs of a manual run."""
