"""Measure the digitise-forms pipeline on freshly generated forms and print the figures.

    python -m benchmarks.pipeline [--forms 60] [--memory] [--seed 7] [--style both]
        [--pen usual|light] [--show-wrong N]

Needs DIGITISE_DATASETS_DIR (the generator draws real MNIST/EMNIST test-split handwriting) and
the shipped model bundles. Figures: field exact match of digit comb fields before review,
character accuracy among characters not flagged, share flagged, the written characters read
right per kind of field (``digits comb``, ``upper box``...), the share of fields flagged and
the exact match among fields not flagged (``--show-wrong N`` prints those read wrong), the
spaces between words of letter box fields that are read and those read where none was written,
pages per second with a warm server, in-pipeline classification against bare batched
``model.predict`` on the same crops, and (with --memory) peak memory of a 50-page against a
500-page batch. ``--pen light`` writes the forms in pencil or a faint pen, scanned in grey
(lighter than the print, so above the page's ink threshold).
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from dataclasses import field as default
from pathlib import Path

import numpy as np

from benchmarks.text_scores import count_spaces
from flows.digitise import run_digitise_forms
from flows.prefect_server import local_server
from ocr_core.reading.recognisers import Recognisers
from ocr_core.recognition.charset import holds_letters
from ocr_core.results.csvfiles import read_csv_rows
from ocr_core.settings import load_settings
from segmentation import iter_pages, load_templates, segment_page
from segmentation.synthetic import match_boxes
from segmentation.synthetic.styles import PENS

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "data" / "templates"
# The forms drawn: the two sample forms, and a card of digits written freely in boxes (which
# the samples lack). Pages are read against every template of both folders.
FORMS = (
    TEMPLATES / "loan-application.yaml",
    TEMPLATES / "change-of-address.yaml",
    ROOT / "benchmarks" / "templates" / "meter-reading.yaml",
)
READ_WITH = [TEMPLATES, ROOT / "benchmarks" / "templates"]


def generate(
    out: Path, count: int, seed: int, random_style: bool = False, pen: str = "usual"
) -> None:
    """Write ``count`` one-page PNG forms (``FORMS`` in turn, all scan distortions) with truth.

    With ``random_style``, each page is drawn in a random style; pages without registration
    marks come with their own template (and blank) in ``out/templates/``. ``pen``: ``light``
    writes in pencil or a faint pen (``segmentation.synthetic.styles.LIGHT_PEN``).
    """
    out.mkdir(parents=True, exist_ok=True)
    style = ["--random-style"] if random_style else []
    style += ["--pen", pen]
    for i, template in enumerate(FORMS):
        n = count // len(FORMS) + (i < count % len(FORMS))
        if not n:
            continue
        subprocess.run(
            [sys.executable, "-m", "segmentation.synthetic", "forms", "--templates",
             str(template), "--format", "png", "--count", str(n),
             "--prefix", template.stem, "--seed", str(seed + i), "--out", str(out), *style],
            check=True, cwd=ROOT,
        )  # fmt: skip


def accuracy(run_dir: Path, truth_dir: Path, show_wrong: int = 0) -> dict[str, float]:
    """Compare a run's CSVs with the generator's ground truth.

    Field values are compared whole. Each character read is paired with the written character
    whose box it overlaps most (IoU >= 0.3; comb cells only with their own cell's), as the
    segmentation benchmark does: a character missed in a free box field then costs itself, not
    every character after it. A character read where none was written counts as wrong.
    ``show_wrong``: print up to this many fields read wrong and not flagged.
    """
    written_down = _Truth.read(truth_dir)
    truth_chars, fields_truth = written_down.chars, written_down.values
    kinds, groups, digit_combs = written_down.kinds, written_down.groups, written_down.digit_combs
    field_rows = read_csv_rows(run_dir / "fields.csv")
    fields = {
        (r["document"], int(r["page"]), r["field"]): r["value"].replace(" ", "") for r in field_rows
    }
    by_field: dict[tuple[str, int, str], list[dict[str, str]]] = {}
    for row in read_csv_rows(run_dir / "characters.csv"):
        by_field.setdefault((row["document"], int(row["page"]), row["field"]), []).append(row)
    right = read_right = accepted = read = 0
    written: Counter[str] = Counter()  # per group: characters written, and read right
    written_right: Counter[str] = Counter()
    for key, chars in truth_chars.items():
        written[groups[key]] += len(chars)
    for key, rows in by_field.items():
        truth = _pair(rows, truth_chars.get(key, []), kinds.get(key, "box"))
        for row, char in zip(rows, truth, strict=True):
            ok = char == row["char"]
            read, read_right = read + 1, read_right + ok
            written_right[groups.get(key, "")] += ok
            if row["needs_review"] == "false":
                accepted, right = accepted + 1, right + ok
    exact = sum(fields.get(k) == fields_truth[k] for k in digit_combs)
    per_group = {
        f"written characters read right, {group} fields": written_right[group] / count
        for group, count in sorted(written.items())
        if count
    }
    return {
        "digit comb fields": len(digit_combs),
        "digit comb exact match before review": exact / max(1, len(digit_combs)),
        "characters in truth": sum(len(c) for c in truth_chars.values()),
        "characters read": read,
        "character accuracy, all read": read_right / max(1, read),
        "share flagged for review": 1 - accepted / max(1, read),
        "character accuracy among not flagged": right / max(1, accepted),
        **per_group,
        **_field_figures(field_rows, fields, written_down, show_wrong),
        **_space_figures(field_rows, written_down),
    }


def _space_figures(field_rows: list[dict[str, str]], truth: _Truth) -> dict[str, float]:
    """Spaces between words in the box fields that may hold letters.

    Those written that were read, and those read where the writer left none
    (``benchmarks.text_scores.count_spaces``).
    """
    written = right = extra = 0
    for r in field_rows:
        value = truth.spaced.get((r["document"], int(r["page"]), r["field"]))
        if value is not None:
            spaces = count_spaces(value, r["value"])
            written += spaces.ref
            right += spaces.right
            extra += spaces.read - spaces.right
    return {
        "letter box fields": len(truth.spaced),
        "spaces between words written": written,
        "spaces between words read": right / written if written else math.nan,
        "spaces read where none was written": extra,
    }


Key = tuple[str, int, str]  # (document, page, field)


@dataclass(slots=True)
class _Truth:
    """What the generator wrote, per field: its value (no spaces), characters, kind, group."""

    values: dict[Key, str] = default(default_factory=dict)
    chars: dict[Key, list[dict]] = default(default_factory=dict)
    kinds: dict[Key, str] = default(default_factory=dict)
    groups: dict[Key, str] = default(default_factory=dict)  # "digits comb", "upper box"...
    digit_combs: set[Key] = default(default_factory=set)
    spaced: dict[Key, str] = default(default_factory=dict)  # letter box fields, with spaces

    @staticmethod
    def read(truth_dir: Path) -> _Truth:
        """The truth files (``*.json``) of a folder of generated forms."""
        templates = {t.name: t for t in load_templates(READ_WITH)}
        truth = _Truth()
        for path in truth_dir.glob("*.json"):
            data = json.loads(path.read_text())
            document = str(truth_dir / data["document"])
            for page in data["pages"]:
                specs = {f.name: f for f in templates[page["template"]].fields}
                for written in page["fields"]:
                    key = (document, page["page"], written["name"])
                    truth.values[key] = written["value"].replace(" ", "")
                    truth.chars[key] = written["chars"]
                    spec = specs[written["name"]]
                    truth.kinds[key] = spec.kind
                    truth.groups[key] = f"{spec.charset} {spec.kind}"
                    if spec.kind == "comb" and spec.charset == "digits" and written["value"]:
                        truth.digit_combs.add(key)
                    if spec.kind == "box" and holds_letters(spec.charset) and written["chars"]:
                        truth.spaced[key] = written["value"]
        return truth


def _field_figures(
    field_rows: list[dict[str, str]], fields: dict[Key, str], truth: _Truth, show_wrong: int
) -> dict[str, float]:
    """Fields flagged, and exact among those not flagged: in all and per group.

    Groups are as the characters' (``digits comb``...). Up to ``show_wrong`` fields read wrong
    and not flagged are printed. Counted: fields of characters with something written (tick
    boxes have their own benchmark). Values (``fields``: read, without spaces) are compared
    without spaces.
    """
    flagged = {
        (r["document"], int(r["page"]), r["field"])
        for r in field_rows
        if r["needs_review"] == "true"
    }
    written = [k for k, chars in truth.chars.items() if chars and k in fields]

    def shares(keys: list[Key]) -> tuple[float, float, list[Key]]:
        """Share flagged, exact among the rest (nan: all flagged), and the wrong ones left."""
        accepted = [k for k in keys if k not in flagged]
        wrong = [k for k in accepted if fields[k] != truth.values[k]]
        exact = 1 - len(wrong) / len(accepted) if accepted else math.nan
        return 1 - len(accepted) / max(1, len(keys)), exact, wrong

    share, exact, wrong = shares(written)
    for key in wrong[:show_wrong]:
        print(f"  not flagged, wrong: {Path(key[0]).name} {key[2]}: {fields[key]!r} "
              f"(written {truth.values[key]!r})")  # fmt: skip
    figures = {
        "fields written": len(written),
        "fields flagged for review": share,
        "fields exact among not flagged": exact,
    }
    for group in sorted({truth.groups[k] for k in written}):
        mine = [k for k in written if truth.groups[k] == group]
        share, exact, _ = shares(mine)
        figures[f"fields flagged, {group} ({len(mine)})"] = share
        figures[f"fields exact among not flagged, {group}"] = exact
    return figures


def _pair(rows: list[dict[str, str]], chars: list[dict], kind: str) -> list[str | None]:
    """The written character each read character is paired with (None: nothing written there)."""
    boxes = [[int(r[k]) for k in ("x0", "y0", "x1", "y1")] for r in rows]
    paired: list[str | None] = [None] * len(rows)
    for i, char in match_boxes(boxes, [int(r["index"]) for r in rows], chars, kind == "comb"):
        paired[i] = char
    return paired


def classification_speed(forms: Path, pages: int = 20) -> dict[str, float]:
    """Time the pipeline's per-page batched classification against bare ``model.predict``."""
    settings = load_settings()
    reader = Recognisers(settings.models_dir)
    templates = load_templates(READ_WITH)
    groups: list[tuple[np.ndarray, str]] = []
    for path in sorted(forms.glob("*.png"))[:pages]:
        for page in iter_pages(path):
            result = segment_page(page, templates)
            by_charset: dict[str, list[np.ndarray]] = {}
            for field in result.fields:
                for char in field.chars:
                    if char.status == "ok":
                        by_charset.setdefault(field.charset, []).append(char.image)
            groups += [(np.stack(images), cs) for cs, images in by_charset.items()]
    total = sum(len(images) for images, _ in groups)
    for images, charset in groups[:3]:
        reader.classify(images, charset)  # warm both bundles
    started = time.perf_counter()
    for images, charset in groups:
        reader.classify(images, charset)
    pipeline_s = time.perf_counter() - started
    bare_s = 0.0
    for name, classifier in reader.bundles.items():
        images = (
            np.concatenate([im for im, cs in groups if reader.bundle_for(cs) == name]).astype(
                np.float32
            )[..., None]
            / 255.0
        )
        classifier.model.predict(images[:256], batch_size=256, verbose=0)
        started = time.perf_counter()
        classifier.model.predict(images, batch_size=256, verbose=0)
        bare_s += time.perf_counter() - started
    return {
        "crops classified": total,
        "pipeline classify chars/s (per page and charset)": total / pipeline_s,
        "bare model.predict chars/s (one batch per bundle)": total / bare_s,
        "pipeline / bare": bare_s / pipeline_s,
    }


def memory_run(forms: Path, copies: int) -> None:
    """Child process: digitise ``copies`` x the forms in one batch, print peak RSS in MiB."""
    batch = Path(tempfile.mkdtemp(prefix="batch-"))
    sources = sorted(forms.glob("*.png"))
    for i in range(copies):
        for src in sources:
            (batch / f"{i:03d}-{src.name}").symlink_to(src)
    with tempfile.TemporaryDirectory() as out:
        summary = run_digitise_forms(
            input=[str(batch)], output=out, templates=[str(t) for t in READ_WITH]
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"pages": summary.pages, "peak_mib": peak}))
    shutil.rmtree(batch)


def _run_style(folder: Path, style: str, args: argparse.Namespace, prefix: bool) -> dict:
    """Generate forms in ``style``, digitise them on a warm server, return the figures."""
    forms = folder / "forms"
    generate(forms, args.forms, args.seed, random_style=style == "random", pen=args.pen)
    templates = [str(t) for t in READ_WITH]
    if (forms / "templates").is_dir():  # pages without marks, each with its user's template
        templates.append(str(forms / "templates"))
    warm = folder / "warm"
    warm.mkdir()
    for src in sorted(forms.glob("*.png"))[:2]:
        shutil.copy(src, warm / src.name)
    run_digitise_forms(input=[str(warm)], output=str(folder / "out"), templates=templates)
    summary = run_digitise_forms(
        input=[str(forms)],
        output=str(folder / "out"),
        templates=templates,
        threshold=args.threshold,
    )
    figures: dict[str, float] = {
        "pages": summary.pages,
        "pages per second (warm server, PNG)": summary.pages / summary.seconds,
        "characters per page": summary.characters / max(1, summary.pages),
    }
    figures.update(accuracy(Path(summary.run_dir), forms, args.show_wrong))
    if style == "house":
        figures.update(classification_speed(forms))
    return {f"{style}: {k}" if prefix else k: v for k, v in figures.items()}


def _memory(tmp: Path, forms: Path) -> dict[str, float]:
    """Peak memory of a 50-page batch (the first 50 forms) and of it ten times over."""
    figures: dict[str, float] = {}
    fifty = tmp / "fifty"
    fifty.mkdir()
    for src in sorted(forms.glob("*.png"))[:50]:
        shutil.copy(src, fifty / src.name)
    for copies in (1, 10):
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.pipeline", "--memory-run",
             str(fifty), str(copies)],
            check=True, capture_output=True, text=True, cwd=ROOT,
        )  # fmt: skip
        result = json.loads(out.stdout.strip().splitlines()[-1])
        figures[f"peak RSS MiB, {result['pages']}-page batch"] = result["peak_mib"]
    return figures


def main() -> int:
    """Generate forms, run the pipeline on them and print every figure."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--forms", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--memory", action="store_true", help="also 50- vs 500-page peak memory")
    parser.add_argument("--threshold", type=float, help="review threshold override (0-1)")
    parser.add_argument(
        "--show-wrong",
        type=int,
        default=0,
        metavar="N",
        help="print N fields read wrong, not flagged",
    )
    parser.add_argument(
        "--style",
        choices=["house", "random", "both"],
        default="both",
        help="forms as we print them, in random styles, or both (reported apart)",
    )
    parser.add_argument(
        "--pen",
        choices=list(PENS),
        default="usual",
        help="forms written in the usual dark ink, or light: pencil or a faint pen",
    )
    parser.add_argument(
        "--memory-run", nargs=2, metavar=("FORMS", "COPIES"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.memory_run:
        memory_run(Path(args.memory_run[0]), int(args.memory_run[1]))
        return 0
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp, local_server():
        styles = ("house", "random") if args.style == "both" else (args.style,)
        for style in styles:
            figures.update(_run_style(Path(tmp) / style, style, args, prefix=len(styles) > 1))
        if args.memory:
            figures.update(_memory(Path(tmp), Path(tmp) / styles[0] / "forms"))
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        text = f"{value:.4f}" if isinstance(value, float) else str(value)
        print(f"{key:<{width}}  {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
