"""``python -m segmentation.draft BLANK --out form.yaml``: draft a template from a blank scan."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ocr_core.cli import EXIT_CODES_HELP, run_cli
from segmentation.draft.drafting import draft_template


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m segmentation.draft",
        description="Draft a form template from a scan of the blank form (PNG, TIFF, JPEG or "
        "PDF; a filled form works too, its handwriting is ignored). Writes the YAML, the "
        "reference image <stem>.blank.png and <stem>.preview.png beside it.",
        epilog=EXIT_CODES_HELP,
    )
    parser.add_argument("blank", type=Path, help="the scanned form (300 dpi is best)")
    parser.add_argument("--out", type=Path, help="the template to write (e.g. my-form.yaml)")
    parser.add_argument(
        "--update",
        nargs="?",
        const=True,
        default=False,
        metavar="FORM.yaml",
        help="re-detect the boxes of an existing template (--out, or the file given here), "
        "keeping the names, labels, charsets and validators already edited",
    )
    parser.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    parser.add_argument("--page", type=int, default=1, help="page of BLANK to use (1-based)")
    parser.add_argument("--name", help="the template's name (default: from --out)")
    parser.add_argument(
        "--no-labels", action="store_true", help="do not read labels (no Tesseract needed)"
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    args = parser.parse_args(argv)
    if isinstance(args.update, str):
        args.out = args.out or Path(args.update)
    if args.out is None:
        parser.error("give --out FORM.yaml (or --update FORM.yaml)")
    return args


def run(args: argparse.Namespace) -> None:
    """Draft the template and say what was written."""
    start = time.perf_counter()
    if args.force and args.out.exists() and not args.update:
        args.out.unlink()
    draft = draft_template(
        args.blank,
        args.out,
        page_number=args.page,
        update=bool(args.update),
        labels=not args.no_labels,
        name=args.name,
    )
    fields = draft.found.fields
    kinds = {k: sum(f.kind == k for f in fields) for k in ("comb", "box", "mark")}
    named = sum(not p.name.startswith("field_") for p in draft.found.proposals)
    print(
        f"{args.out}: {len(fields)} fields ({kinds['comb']} comb, {kinds['box']} box, "
        f"{kinds['mark']} mark), {named} named from labels, marks: {str(draft.marks).lower()}, "
        f"{time.perf_counter() - start:.1f} s"
    )
    stem = args.out.name.removesuffix(".yaml").removesuffix(".yml")
    print(f"check {args.out.parent / (stem + '.preview.png')}, then edit names and charsets")
    for name in draft.lost:
        print(f"warning: field {name!r} was not found again and is left out", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    args = parse_args(argv)
    return run_cli(lambda: run(args), debug=args.debug)


if __name__ == "__main__":
    sys.exit(main())
