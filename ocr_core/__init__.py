"""Character recognition: settings, errors, and the recognition and training subpackages.

The only package that imports TensorFlow, and only lazily, so importing this package is cheap:
``load_classifier``, ``Classifier`` and ``Prediction`` are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ocr_core.recognition.inference import Classifier, Prediction, load_classifier

__all__ = ["Classifier", "Prediction", "load_classifier"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from ocr_core.recognition import inference

        return getattr(inference, name)
    raise AttributeError(f"module 'ocr_core' has no attribute {name!r}")
