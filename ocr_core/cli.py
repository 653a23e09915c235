"""One way for every command-line entry point to check its arguments and end: a code, one line."""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from ocr_core.errors import (
    ConfigurationError,
    DigitiseError,
    ExitCode,
    InputFileError,
    ModelError,
)
from ocr_core.reading.recognisers import AUTO, JUNK
from ocr_core.settings import Settings, load_settings

EXIT_CODES_HELP = (
    "exit codes: 0 done (characters may still need review); 2 a document failed (see "
    "errors.csv) or an input is missing or bad; 3 template; 4 model; 5 configuration or a bad "
    "argument; 6 output could not be written; 1 unexpected error (rerun with --debug for the "
    "traceback); 130 interrupted"
)


class CliParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line and exit with the configuration code."""

    def __init__(self, **kwargs: object) -> None:
        """Take ``argparse.ArgumentParser``'s arguments; the epilog lists the exit codes."""
        kwargs.setdefault("epilog", EXIT_CODES_HELP)
        super().__init__(**kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> NoReturn:
        """Print one line naming the problem and ``--help``; exit 5."""
        print(f"error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(ExitCode.CONFIGURATION)


def load_cli_settings() -> Settings:
    """The settings, a bad ``DIGITISE_*`` value reported in one line.

    Raises:
        ConfigurationError: a setting is invalid (its variable is named).
    """
    from pydantic import ValidationError

    try:
        return load_settings()
    except ValidationError as e:
        problems = "; ".join(
            f"DIGITISE_{'_'.join(map(str, err['loc'])).upper()}: {err['msg']}" for err in e.errors()
        )
        raise ConfigurationError(
            f"invalid setting ({problems})", remedy="Fix the variable or the .env file"
        ) from e


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--debug`` and ``--verbose``, which every command takes."""
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    parser.add_argument(
        "--verbose", action="store_true", help="show every library's log lines (TensorFlow too)"
    )


def available_models(models_dir: Path) -> list[str]:
    """The names of the character bundles in ``models_dir`` (folders holding a ``bundle.json``).

    ``junk`` is left out: it tells whether a crop is one character, and reads none.
    """
    if not models_dir.is_dir():
        return []
    return sorted(
        p.name for p in models_dir.iterdir() if (p / "bundle.json").is_file() and p.name != JUNK
    )


def check_model(models_dir: Path, model: str) -> None:
    """Refuse a model name that is not a bundle of ``models_dir`` (without loading any model).

    Raises:
        ModelError: no such bundle; the message lists the valid names.
    """
    names = available_models(models_dir)
    needed = ("digits", "alnum") if model == AUTO else (model,)
    missing = [name for name in needed if name not in names]
    if missing:
        listed = ", ".join([AUTO, *names]) if names else "none: the folder holds no bundles"
        raise ModelError(
            f"no model bundle named {' or '.join(missing)}",
            path=models_dir,
            remedy=f"Choose --model from: {listed}",
        )


def check_inputs(inputs: Sequence[str]) -> None:
    """Refuse inputs that do not exist, before anything starts.

    Raises:
        InputFileError: an input is missing (every missing one is named).
    """
    missing = [text for text in inputs if not Path(text).exists()]
    if missing:
        raise InputFileError(
            f"no such file or folder: {', '.join(missing)}",
            remedy="Check the path (relative paths are taken from the current folder)",
        )


def check_threshold(threshold: float | None) -> None:
    """Refuse a review threshold outside 0..1.

    Raises:
        ConfigurationError: out of range.
    """
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise ConfigurationError(
            f"--threshold {threshold:g} is outside 0..1",
            remedy="Give the confidence under which a character goes to review, such as 0.9",
        )


def check_run_arguments(
    settings: Settings,
    inputs: Sequence[str],
    templates: Sequence[str] | None,
    template_free: bool,
    threshold: float | None,
    model: str,
) -> None:
    """Check a digitise run's arguments before a server starts or TensorFlow loads.

    Raises:
        ConfigurationError: the threshold is out of range.
        ModelError: no such model bundle.
        TemplateError: a template is missing or invalid.
        InputFileError: an input does not exist.
    """
    check_threshold(threshold)
    check_model(settings.models_dir, model)
    if not template_free:
        from ocr_core.reading.context import load_template_set, template_paths

        load_template_set(template_paths(templates, template_free, settings.templates_dir))
    check_inputs(inputs)


def run_cli(main: Callable[[], int | None], *, debug: bool = False) -> int:
    """Run a command's body and map whatever ends it to an exit code and a one-line message.

    Args:
        main: the command's body; returns its exit code (``None`` counts as success).
        debug: print the traceback of an error as well as its one line.

    Returns:
        The process exit code: the body's own, the ``DigitiseError``'s, 130 on Ctrl-C, or 1 for
        an error nobody anticipated.
    """
    try:
        code = main()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except DigitiseError as e:
        if debug:
            traceback.print_exc()
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except Exception as e:  # the last resort: one line, the traceback only on request
        if debug:
            traceback.print_exc()
        print(
            f"unexpected error: {type(e).__name__}: {e} (rerun with --debug for details)",
            file=sys.stderr,
        )
        return ExitCode.ERROR
    return ExitCode.OK if code is None else int(code)
