"""One way for every command-line entry point to end: an exit code and one line per error."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable

from ocr_core.errors import DigitiseError, ExitCode

EXIT_CODES_HELP = (
    "exit codes: 0 done; 2 a document failed (see errors.csv) or an input file is bad; "
    "3 template; 4 model; 5 configuration; 6 output could not be written; "
    "1 unexpected error (rerun with --debug for the traceback); 130 interrupted"
)


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
