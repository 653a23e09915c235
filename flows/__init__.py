"""Prefect orchestration of the pipeline: thin flows over ocr_core and segmentation."""

from ocr_core.environment import prepare_environment

# Before anything imports Prefect or TensorFlow: every ``python -m flows.*`` command and every
# deployment run uses the project's Prefect home and server, wherever it was started from.
prepare_environment()
