"""Read real NIST HSF pages through the pipeline and score them beside NIST's own recogniser.

    python -m benchmarks.real_forms [--pages DIR] [--refs DIR] [--nist DIR] [--template PATH]
        [--output DIR] [--montage OUT.png] [--batch 8]

Defaults: the ``hsf-dev`` folders under ``$DIGITISE_DATASETS_DIR/hsf-dev`` and
``data/templates/nist-hsf.yaml``. Every page ``X.png`` with a reference ``X.ref`` is read by the
one-shot command (``python -m flows.digitise``, a subprocess: the benchmark sees what a user
sees, ``fields.csv`` and ``run.json``), and NIST's hsfsys2 output ``X.hy2`` (same format as the
reference) is scored the same way on the same pages.

The template's Nth field is NIST's ``hsf_N``. Scored: digits (hsf_3..hsf_30), lowercase
(hsf_31), uppercase (hsf_32), the preamble (hsf_33: upper-cased, spaces removed, since the
reference is mixed case with spaces and hsfsys2 reads capitals); hsf_0..hsf_2 have no reference.
The spaces between words are scored apart: the share of the preamble's that are read, and the
share of the spaces read in any scored field that stand between words (``text_scores``).
Character accuracy is 1 - summed edit distance / summed reference length; a field is exact when
it equals the reference. Seconds per page are the run's own (no server start), for the pages
read and for a batch of ``--batch`` copies of each (model loading then spread over the batch).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from benchmarks.montage import read_gray, write_montage
from benchmarks.text_scores import count_spaces, edit_distance

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("digits", "uppercase", "lowercase", "preamble")


@dataclass(slots=True)
class Tally:
    """Counts for one kind of field; ``flagged``/``unflagged_exact`` only where flags exist."""

    fields: int = 0
    exact: int = 0
    ref_chars: int = 0
    distance: int = 0
    right_length: int = 0
    flagged: int = 0
    unflagged: int = 0
    unflagged_exact: int = 0
    has_flags: bool = False
    spaces_ref: int = 0
    spaces_read: int = 0
    spaces_right: int = 0
    wrong: list[tuple[str, str, str, str]] = field(default_factory=list)

    def add(self, page: str, name: str, ref: str, read: str, flagged: bool | None) -> None:
        """Count one field: its reference, what was read and whether it was flagged."""
        self.fields += 1
        self.ref_chars += len(ref)
        self.distance += edit_distance(ref, read)
        self.right_length += len(read) == len(ref)
        self.exact += read == ref
        if read != ref:
            self.wrong.append((page, name, read, ref))
        if flagged is not None:
            self.has_flags = True
            self.flagged += flagged
            self.unflagged += not flagged
            self.unflagged_exact += (not flagged) and read == ref

    def add_spaces(self, ref: str, read: str) -> None:
        """Count the spaces between words of one field, as written (``count_spaces``)."""
        spaces = count_spaces(ref, read)
        self.spaces_ref += spaces.ref
        self.spaces_read += spaces.read
        self.spaces_right += spaces.right

    def accuracy(self) -> float:
        """Character accuracy: 1 - summed edit distance / summed reference length."""
        return 1.0 - self.distance / self.ref_chars if self.ref_chars else float("nan")


def parse_fields(text: str) -> dict[str, str]:
    """Parse a ``.ref``/``.hy2`` file: one ``hsf_N text`` line per field (text may be empty)."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        name, _, value = line.strip().partition(" ")
        if name:
            fields[name] = value.strip()
    return fields


def field_kind(name: str) -> str | None:
    """The scored kind of NIST field ``hsf_N``, or None for the unreferenced hsf_0..hsf_2."""
    number = int(name.removeprefix("hsf_"))
    if 3 <= number <= 30:
        return "digits"
    return {31: "lowercase", 32: "uppercase", 33: "preamble"}.get(number)


def normalise(kind: str, text: str) -> str:
    """Compare without spaces; the preamble also without case (see the module docstring)."""
    text = "".join(text.split())
    return text.upper() if kind == "preamble" else text


def score(
    refs: Mapping[str, Mapping[str, str]],
    reads: Mapping[str, Mapping[str, tuple[str, bool | None]]],
) -> dict[str, Tally]:
    """Tally every referenced field of every page by kind, and over all kinds (``all``).

    Args:
        refs: page -> NIST field name -> reference text.
        reads: page -> NIST field name -> (text read, flagged for review or None if unknown);
            a field missing from a page's reads counts as read empty.

    Returns:
        Kind -> tally, for the kinds in ``KINDS`` and ``all``.
    """
    tallies = {kind: Tally() for kind in (*KINDS, "all")}
    for page, fields in refs.items():
        for name, ref_text in fields.items():
            kind = field_kind(name)
            if kind is None or not ref_text:
                continue
            read, flagged = reads.get(page, {}).get(name, ("", None))
            ref, got = normalise(kind, ref_text), normalise(kind, read)
            for tally in (tallies[kind], tallies["all"]):
                tally.add(page, name, ref, got, flagged)
                tally.add_spaces(ref_text, read)
    return tallies


def read_fields_csv(path: Path, names: list[str]) -> dict[str, dict[str, tuple[str, bool | None]]]:
    """Page stem -> NIST field name -> (value, needs_review) from a run's ``fields.csv``.

    A page that was not cut into fields (blank, or not registered) has one row without a
    field, in review: each of its fields is then read empty and flagged, as the clerk who
    reviews the page sees it.
    """
    index = {name: f"hsf_{n}" for n, name in enumerate(names)}
    reads: dict[str, dict[str, tuple[str, bool | None]]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            value = row["value"]
            if value[:2] in {"'=", "'+", "'-", "'@"}:  # the formula guard's prefix
                value = value[1:]
            page = Path(row["document"]).stem
            if not row["field"] and row["needs_review"] == "true":
                reads.setdefault(page, {}).update({n: ("", True) for n in index.values()})
            nist = index.get(row["field"])
            if nist is not None:
                reads.setdefault(page, {})[nist] = (value, row["needs_review"] == "true")
    return reads


def run_pipeline(pages: list[Path], template: Path, out: Path) -> tuple[Path, float]:
    """Run the one-shot command on pages (files or folders); return its run folder, wall seconds."""
    command = [sys.executable, "-m", "flows.digitise", *map(str, pages)]
    command += ["--output", str(out), "--template", str(template)]
    start = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.monotonic() - start
    if done.returncode not in (0, 2):
        sys.exit(f"digitise failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    [run_dir] = [p for p in out.iterdir() if (p / "run.json").exists()]
    return run_dir, wall


def time_batch(pages: list[Path], copies: int, template: Path, out: Path) -> tuple[int, float]:
    """Read ``copies`` copies of every page in one run; return its pages and seconds per page."""
    batch = out / "batch-input"
    batch.mkdir()
    for k in range(copies):
        for page in pages:
            shutil.copy(page, batch / f"{page.stem}-{k}{page.suffix}")
    (out / "batch").mkdir()
    run_dir, _ = run_pipeline([batch], template.resolve(), out / "batch")
    summary = json.loads((run_dir / "run.json").read_text())["summary"]
    return int(summary["pages"]), float(summary["seconds per page"])


def added_per_page(small: tuple[int, float], large: tuple[int, float]) -> float | None:
    """Seconds each further page adds to a run, from two runs' (pages, seconds per page).

    Every run pays once for loading the models and starting its segmentation workers (a few
    seconds); a server that stays up pays that once for all its runs. What a page costs
    within a batch is the larger run's seconds less the smaller's, over the pages it adds.
    None when the larger run has no more pages.
    """
    (few, few_each), (many, many_each) = small, large
    if many <= few:
        return None
    return (many * many_each - few * few_each) / (many - few)


def _pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.2f}%" if whole else "n/a"


def report(ours: dict[str, Tally], nist: dict[str, Tally], pages: int, nist_pages: int) -> str:
    """The side-by-side table as Markdown."""
    rows = [f"| figure ({pages} pages) | us | NIST hsfsys2 ({nist_pages} pages) |", "|---|---|---|"]

    def row(label: str, ours_text: str, nist_text: str) -> None:
        rows.append(f"| {label} | {ours_text} | {nist_text} |")

    for kind in KINDS:
        a, b = ours[kind], nist[kind]
        row(
            f"{kind} characters",
            _pct(a.ref_chars - a.distance, a.ref_chars),
            _pct(b.ref_chars - b.distance, b.ref_chars),
        )
        row(
            f"{kind} fields exact",
            f"{_pct(a.exact, a.fields)} ({a.exact}/{a.fields})",
            f"{_pct(b.exact, b.fields)} ({b.exact}/{b.fields})",
        )
    a, b = ours["digits"], nist["digits"]
    row(
        "digit fields with the right number of characters",
        f"{_pct(a.right_length, a.fields)} ({a.right_length}/{a.fields})",
        f"{_pct(b.right_length, b.fields)} ({b.right_length}/{b.fields})",
    )
    a, b = ours["preamble"], nist["preamble"]
    row(
        "preamble spaces between words read",
        f"{_pct(a.spaces_right, a.spaces_ref)} ({a.spaces_right}/{a.spaces_ref})",
        f"{_pct(b.spaces_right, b.spaces_ref)} ({b.spaces_right}/{b.spaces_ref})",
    )
    a, b = ours["all"], nist["all"]
    row(
        "spaces read that stand between words",
        f"{_pct(a.spaces_right, a.spaces_read)} ({a.spaces_right}/{a.spaces_read})",
        f"{_pct(b.spaces_right, b.spaces_read)} ({b.spaces_right}/{b.spaces_read})",
    )
    for kind, label in (("digits", "digit fields"), ("all", "all scored fields")):
        t = ours[kind]
        row(
            f"{label} flagged for review",
            f"{_pct(t.flagged, t.fields)} ({t.flagged}/{t.fields})",
            "— (no flags)",
        )
        row(
            f"{label} exact among those not flagged",
            f"{_pct(t.unflagged_exact, t.unflagged)} ({t.unflagged_exact}/{t.unflagged})",
            "—",
        )
    return "\n".join(rows)


def add_page_arguments(parser: argparse.ArgumentParser) -> Path:
    """Add ``--pages``, ``--refs`` and ``--template`` (hsf-dev's by default); return hsf-dev."""
    hsf = Path(os.environ.get("DIGITISE_DATASETS_DIR", "data/datasets")) / "hsf-dev"
    parser.add_argument("--pages", type=Path, default=hsf / "pages")
    parser.add_argument("--refs", type=Path, default=hsf / "ref")
    parser.add_argument("--template", type=Path, default=ROOT / "data/templates/nist-hsf.yaml")
    return hsf


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    hsf = add_page_arguments(parser)
    parser.add_argument("--nist", type=Path, default=hsf / "nist_output")
    parser.add_argument("--output", type=Path, help="keep the run's results here")
    parser.add_argument("--montage", type=Path, help="save the wrongly read fields as a PNG")
    parser.add_argument(
        "--batch",
        type=int,
        default=8,
        metavar="K",
        help="also time a batch of K copies of every page (0: do not); a run of a few pages "
        "is mostly model loading",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures."""
    args = _parser().parse_args(argv)

    page_files = {
        p.stem: p.resolve()
        for p in sorted(args.pages.glob("*.png"))
        if (args.refs / f"{p.stem}.ref").exists()
    }
    if not page_files:
        sys.exit(f"no page in {args.pages} has a reference in {args.refs}")
    refs = {s: parse_fields((args.refs / f"{s}.ref").read_text()) for s in page_files}
    hy2 = {s: args.nist / f"{s}.hy2" for s in page_files if (args.nist / f"{s}.hy2").exists()}
    template = yaml.safe_load(args.template.read_text())
    names = [f["name"] for f in template["fields"]]
    boxes = {f"hsf_{n}": f["box"] for n, f in enumerate(template["fields"])}

    out = args.output or Path(tempfile.mkdtemp(prefix="real-forms-"))
    out.mkdir(parents=True, exist_ok=True)
    try:
        run_dir, wall = run_pipeline(list(page_files.values()), args.template.resolve(), out)
        reads = read_fields_csv(run_dir / "fields.csv", names)
        summary = json.loads((run_dir / "run.json").read_text())["summary"]
        ours = score(refs, reads)
        nist_reads = {
            s: {k: (v, None) for k, v in parse_fields(p.read_text()).items()}
            for s, p in hy2.items()
        }
        nist = score({s: refs[s] for s in hy2}, nist_reads)
        print(report(ours, nist, len(page_files), len(hy2)))
        print(f"\nseconds per page (the run's own, in the batch): {summary['seconds per page']}")
        print(f"wall time of the whole command (server start, model load): {wall:.1f} s")
        if args.batch > 0:
            batch = time_batch(list(page_files.values()), args.batch, args.template, out)
            print(
                f"seconds per page within a batch of {batch[0]} pages (the run's own): {batch[1]}"
            )
            run = (int(summary["pages"]), float(summary["seconds per page"]))
            added = added_per_page(run, batch)
            if added is not None:
                print(f"seconds each page past the first {run[0]} adds: {added:.3f}")
        print(f"pages: {', '.join(page_files)}; template {args.template}")
        if args.montage:
            blank = read_gray(args.template.parent / template["reference_image"])
            wrong = [w for kind in KINDS for w in ours[kind].wrong]
            count = write_montage(args.montage, wrong, page_files, boxes, blank)
            print(f"montage of {count} wrongly read fields: {args.montage}")
    finally:
        if args.output is None:
            shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
