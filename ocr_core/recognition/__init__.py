"""Recognition: the normalisation contract, the CNN, its bundle, calibration and inference."""
