"""A run's result files: the row records, formula-safe CSV files, the review page, run.json."""
