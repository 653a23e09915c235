"""Prefect orchestration of the pipeline: thin flows over ocr_core and segmentation."""
