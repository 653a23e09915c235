"""The one-shot command line of digitise-forms: check every argument, run once, say what next.

``python -m flows.digitise`` checks its arguments (threshold, model names, templates, inputs)
before it imports Prefect, starts a server or loads TensorFlow, so a mistake costs a second and
one line, not a result folder. The flow itself is in ``flows.digitise_flow`` (also importable
from here, for the deployments and the code that already imports it from this module).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ocr_core.cli import (
    CliParser,
    add_common_options,
    check_run_arguments,
    load_cli_settings,
    run_cli,
)
from ocr_core.errors import ExitCode
from ocr_core.reading.context import prepare_run
from ocr_core.reading.recognisers import AUTO

if TYPE_CHECKING:
    from flows.digitise_flow import digitise_document_task, digitise_forms, run_digitise_forms

__all__ = ["digitise_document_task", "digitise_forms", "main", "run_digitise_forms"]


def __getattr__(name: str) -> Any:
    # The flow's module imports Prefect (about 2 s): loaded when first used, after the checks.
    if name in __all__:
        from flows import digitise_flow

        return getattr(digitise_flow, name)
    raise AttributeError(f"module 'flows.digitise' has no attribute {name!r}")


def _parser() -> CliParser:
    parser = CliParser(prog="python -m flows.digitise", description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="files or folders to read")
    parser.add_argument(
        "--output",
        help="folder for the run's result folder (default: DIGITISE_OUTPUT_DIR, which is "
        "data/output in the project)",
    )
    parser.add_argument(
        "--template", action="append", dest="templates", help="template YAML or folder"
    )
    parser.add_argument("--template-free", action="store_true", help="detect fields from lines")
    parser.add_argument("--threshold", type=float, help="review threshold (0-1) for every bundle")
    parser.add_argument("--model", default=AUTO, help="auto, digits, alnum or another bundle")
    parser.add_argument(
        "--dask", metavar="ADDRESS", help="run documents on Dask: 'local' or a scheduler address"
    )
    add_common_options(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run digitise-forms once from the command line; return the exit code.

    Exit codes: 0 when every document was processed (characters may still need review), 2 when
    any document failed (listed in ``errors.csv``) or an input is missing, or the error's own
    code when the run could not start (3 template, 4 model, 5 configuration, 6 output).
    """
    args = _parser().parse_args(argv)

    def run() -> int:
        settings = load_cli_settings()
        check_run_arguments(
            settings, args.inputs, args.templates, args.template_free, args.threshold, args.model
        )
        from flows.digitise_flow import digitise_forms
        from flows.prefect_server import flow_run_url, local_server, quiet_console
        from flows.runners import with_dask
        from ocr_core.results.report import read_report

        quiet_console(verbose=args.verbose)
        run_flow = with_dask(digitise_forms, args.dask or settings.dask_address)
        # The models load and the segmentation workers start while the server starts.
        with local_server(while_starting=lambda: prepare_run(settings, args.model)) as url:
            state = run_flow(
                input=args.inputs,
                output=str(Path(args.output or settings.output_dir).resolve()),
                templates=args.templates,
                template_free=args.template_free,
                threshold=args.threshold,
                model=args.model,
                show_progress=sys.stderr.isatty(),
                return_state=True,
            )
        summary = state.result(raise_on_failure=False)
        if isinstance(summary, BaseException):
            raise summary
        print(read_report(summary).text(), end="")
        print(f"Prefect run: {flow_run_url(url, state.state_details.flow_run_id)}")
        return ExitCode.INPUT_FILE if summary.failed else ExitCode.OK

    return run_cli(run, debug=args.debug)


if __name__ == "__main__":
    sys.exit(main())
