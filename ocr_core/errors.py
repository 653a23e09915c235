"""Errors shared by the whole pipeline, each with an exit code and a message that names the fix."""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path


class ExitCode(IntEnum):
    """Every exit code a command-line entry point returns (listed in each command's ``--help``)."""

    OK = 0
    ERROR = 1
    INPUT_FILE = 2
    TEMPLATE = 3
    MODEL = 4
    CONFIGURATION = 5
    OUTPUT = 6
    INTERRUPTED = 130


class DigitiseError(Exception):
    """Base of every error the pipeline raises on purpose.

    Attributes:
        exit_code: the process exit code a command-line entry point uses for this error.
        kind: a short machine-readable name, written to ``errors.csv``.
    """

    exit_code: ExitCode = ExitCode.ERROR
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

    exit_code = ExitCode.INPUT_FILE
    kind = "input_file"


class TemplateError(DigitiseError):
    """A form template is missing, malformed or refers to something that is not there."""

    exit_code = ExitCode.TEMPLATE
    kind = "template"


class ModelError(DigitiseError):
    """A model bundle is missing, incomplete or was saved with an incompatible contract."""

    exit_code = ExitCode.MODEL
    kind = "model"


class ConfigurationError(DigitiseError):
    """A setting points at something unusable (a missing datasets folder, say)."""

    exit_code = ExitCode.CONFIGURATION
    kind = "configuration"


class OutputError(DigitiseError):
    """Results could not be written (output folder unwritable, disk full)."""

    exit_code = ExitCode.OUTPUT
    kind = "output"
