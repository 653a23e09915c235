"""Training: datasets, training sets, fitting, evaluation and the model card of a bundle."""
