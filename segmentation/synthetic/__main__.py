"""Blank and synthetic filled forms: ``python -m segmentation.synthetic blank|forms ...``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import yaml

from ocr_core.cli import EXIT_CODES_HELP, run_cli
from segmentation.records import Template
from segmentation.render import render_blank_form, write_blank_pdf
from segmentation.synthetic.forms import make_document
from segmentation.synthetic.glyphs import load_glyph_pool
from segmentation.synthetic.scan import write_pages
from segmentation.synthetic.styles import PENS, PageStyle, style_of
from segmentation.templates import load_templates


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line: ``forms`` or ``blank`` and their options."""
    parser = argparse.ArgumentParser(
        prog="python -m segmentation.synthetic", description=__doc__, epilog=EXIT_CODES_HELP
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = parser.add_subparsers(dest="command", required=True)
    forms = sub.add_parser("forms", help="synthetic filled forms with ground truth JSON")
    forms.add_argument("--templates", type=Path, nargs="+", default=[Path("data/templates")])
    forms.add_argument("--out", type=Path, required=True)
    forms.add_argument("--count", type=int, default=4, help="documents to write")
    forms.add_argument("--pages", type=int, default=1, help="pages per document")
    forms.add_argument("--format", choices=["pdf", "tiff", "png", "jpeg"], default="pdf")
    forms.add_argument("--seed", type=int, default=0)
    forms.add_argument("--prefix", default="form")
    forms.add_argument("--no-turns", action="store_true", help="never turn pages by 90/180")
    forms.add_argument("--binarise", action="store_true", help="black-and-white scans (small)")
    forms.add_argument(
        "--random-style",
        action="store_true",
        help="draw each page in a random style (lines, cells, shade, marks, writing); a page "
        "without marks gets its own template and blank in OUT/templates/",
    )
    forms.add_argument(
        "--pen",
        choices=list(PENS),
        default="usual",
        help="write in the usual dark ink, or light (pencil, a faint pen; scanned in grey)",
    )
    blank = sub.add_parser("blank", help="printable blank forms (PDF and PNG)")
    blank.add_argument("templates", type=Path, nargs="+")
    blank.add_argument("--out", type=Path, required=True)
    return parser.parse_args(argv)


def write_blank(args: argparse.Namespace) -> None:
    """Write each template as a printable blank form, PDF and PNG."""
    templates = load_templates(args.templates)
    args.out.mkdir(parents=True, exist_ok=True)
    for template in templates:
        write_blank_pdf(template, args.out / f"{template.name}.pdf")
        cv2.imwrite(str(args.out / f"{template.name}.png"), render_blank_form(template))
        print(args.out / f"{template.name}.pdf")


def write_forms(args: argparse.Namespace) -> None:
    """Write filled, scanned documents, each with its ground truth JSON beside it."""
    templates = load_templates(args.templates)
    args.out.mkdir(parents=True, exist_ok=True)
    pool = load_glyph_pool()
    rng = np.random.default_rng(args.seed)
    suffix = {"jpeg": "jpg", "tiff": "tif"}.get(args.format, args.format)
    pages = 1 if args.format in ("png", "jpeg") else args.pages
    by_name = {t.name: t for t in templates}
    for number in range(1, args.count + 1):
        binarise = True if args.format == "tiff" or args.binarise else None
        scans, records = make_document(
            templates,
            pool,
            rng,
            pages,
            binarise=binarise,
            turns=not args.no_turns,
            randomise=args.random_style,
            pen=PENS[args.pen],
        )
        path = write_pages(scans, args.out / f"{args.prefix}-{number:03d}.{suffix}", args.format)
        for record in records:
            style = style_of(record)
            if not style.marks:
                stem = f"{path.stem}-p{record['page']}"
                template = by_name[record["template"]]
                record["template_file"] = str(
                    write_styled_template(template, style, stem, args.out)
                )
        truth = {"document": path.name, "format": args.format, "pages": records}
        path.with_suffix(".json").write_text(json.dumps(truth, indent=1))
        print(path)


def write_styled_template(template: Template, style: PageStyle, stem: str, out: Path) -> Path:
    """Write the template a user of a page without marks has: its YAML, with the blank beside.

    The copy is named ``<template>--<stem>`` and lies in ``out/templates/``; its fields are the
    original's, read again from the original YAML.
    """
    folder = out / "templates"
    folder.mkdir(parents=True, exist_ok=True)
    raw = yaml.safe_load(template.source.read_text())
    raw.update(name=f"{template.name}--{stem}", marks=False, reference_image=f"{stem}.png")
    cv2.imwrite(
        str(folder / f"{stem}.png"), render_blank_form(template, marks=False, style=style.form)
    )
    target = folder / f"{stem}.yaml"
    target.write_text(yaml.safe_dump(raw, sort_keys=False))
    for spec in template.fields:  # lists of allowed values go beside the copy too
        if spec.validation.choices_file:
            name = spec.validation.choices_file
            (folder / name).write_bytes((template.source.parent / name).read_bytes())
    return target


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``forms`` writes filled, scanned forms; ``blank`` prints templates."""
    args = parse_args(argv)
    command = write_blank if args.command == "blank" else write_forms
    return run_cli(lambda: command(args), debug=args.debug)


if __name__ == "__main__":
    sys.exit(main())
