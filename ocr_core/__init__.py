"""Character recognition: datasets, the normalisation contract, model, training and inference.

The only package that imports TensorFlow, and only lazily, so importing this package is cheap.
"""
