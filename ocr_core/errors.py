"""Errors shared by the whole pipeline, each with an exit code and a message that names the fix."""

from __future__ import annotations

from pathlib import Path


class DigitiseError(Exception):
    """Base of every error the pipeline raises on purpose.

    Attributes:
        exit_code: the process exit code a command-line entry point uses for this error.
        kind: a short machine-readable name, written to ``errors.csv``.
    """

    exit_code = 1
    kind = "error"

    def __init__(self, message: str, *, path: str | Path | None = None, remedy: str = "") -> None:
        self.path = None if path is None else str(path)
        self.remedy = remedy
        text = message if self.path is None else f"{self.path}: {message}"
        if remedy:
            text = f"{text}. {remedy}"
        super().__init__(text)


class InputFileError(DigitiseError):
    """An input file is corrupt, truncated, encrypted, empty, too large or unsupported."""

    exit_code = 2
    kind = "input_file"


class TemplateError(DigitiseError):
    """A form template is missing, malformed or refers to something that is not there."""

    exit_code = 3
    kind = "template"


class ModelError(DigitiseError):
    """A model bundle is missing, incomplete or was saved with an incompatible contract."""

    exit_code = 4
    kind = "model"


class ConfigurationError(DigitiseError):
    """A setting points at something unusable (a missing datasets folder, say)."""

    exit_code = 5
    kind = "configuration"


class OutputError(DigitiseError):
    """Results could not be written (output folder unwritable, disk full)."""

    exit_code = 6
    kind = "output"
