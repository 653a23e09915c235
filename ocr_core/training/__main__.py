"""Train a model bundle: ``python -m ocr_core.training``."""

from ocr_core.training.train import main

if __name__ == "__main__":
    raise SystemExit(main())
