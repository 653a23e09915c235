"""The process environment every entry point shares: one Prefect home and server, quiet TensorFlow.

``prepare_environment`` runs before Prefect or TensorFlow is imported (``flows/__init__.py`` calls
it, so every ``python -m flows.*`` command and every deployment run gets it). It only sets
variables the user has not set, so an explicit ``PREFECT_API_URL`` or ``PREFECT_HOME`` still wins.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

from ocr_core.settings import project_root

VERBOSE_FLAG: Final = "--verbose"
# Lines TensorFlow's C++ side writes before (or despite) its log level: absl's preamble and
# records such as "E0000 00:00:17.. 123 cuda_platform.cc:52] failed call to cuInit ...".
_NATIVE_LOG = re.compile(
    rb"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    rb"|[IWEF]\d{4} [\d:.]+\s+\d+ [\w./-]+:\d+\] )"
)
_STDERR_LOCK = threading.RLock()


def prefect_toml_variables(config: Mapping[str, Any], prefix: str = "PREFECT") -> dict[str, str]:
    """Flatten a ``prefect.toml`` table into the environment variables Prefect reads.

    Args:
        config: the parsed TOML (``{"api": {"url": ...}, "server": {"api": {"port": 4200}}}``).
        prefix: the variable prefix of the level being flattened.

    Returns:
        ``{"PREFECT_API_URL": "...", "PREFECT_SERVER_API_PORT": "4200", ...}``.
    """
    found: dict[str, str] = {}
    for key, value in config.items():
        name = f"{prefix}_{key.upper()}"
        if isinstance(value, Mapping):
            found.update(prefect_toml_variables(value, name))
        elif isinstance(value, bool):
            found[name] = "true" if value else "false"
        else:
            found[name] = str(value)
    return found


def prepare_environment(argv: Sequence[str] | None = None) -> None:
    """Point Prefect at the project's home and server, and quiet TensorFlow unless ``--verbose``.

    Sets, where unset: ``PREFECT_HOME`` (the project's ``.prefect/``), every setting of the
    project's ``prefect.toml`` (read from the project, not the working folder), ``DO_NOT_TRACK``
    and ``TF_CPP_MIN_LOG_LEVEL``. With ``--verbose`` in ``argv`` TensorFlow logs as it likes.
    """
    root = project_root()
    defaults = {
        "PREFECT_HOME": str(root / ".prefect"),
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    toml = root / "prefect.toml"
    if toml.is_file():
        with contextlib.suppress(OSError, tomllib.TOMLDecodeError):
            defaults |= prefect_toml_variables(tomllib.loads(toml.read_text(encoding="utf-8")))
    verbose = VERBOSE_FLAG in (sys.argv[1:] if argv is None else argv)
    if verbose:
        os.environ["DIGITISE_VERBOSE"] = "1"
    defaults["TF_CPP_MIN_LOG_LEVEL"] = "0" if verbose else "3"
    for name, value in defaults.items():
        os.environ.setdefault(name, value)


def is_verbose() -> bool:
    """True when the user asked for every library's log lines (``--verbose``)."""
    return bool(os.environ.get("DIGITISE_VERBOSE"))


@contextlib.contextmanager
def quiet_native_logs() -> Iterator[None]:
    """Hold back TensorFlow's C++ log lines (written straight to file descriptor 2).

    TensorFlow prints "failed call to cuInit" and the like before its log level applies, from
    C++, where no Python setting reaches. Whatever else is written to standard error meanwhile
    is passed on once the block ends; with ``--verbose`` nothing is held back.
    """
    if is_verbose():
        yield
        return
    with _STDERR_LOCK, tempfile.TemporaryFile() as held:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            kept = [line for line in held.read().splitlines(True) if not _NATIVE_LOG.match(line)]
            if kept:
                sys.stderr.write(b"".join(kept).decode("utf-8", "replace"))
                sys.stderr.flush()


def quiet_python_logs() -> None:
    """Turn TensorFlow's and absl's Python loggers down to errors unless ``--verbose``."""
    if is_verbose():
        return
    import logging

    for name in ("tensorflow", "absl", "h5py"):
        logging.getLogger(name).setLevel(logging.ERROR)
