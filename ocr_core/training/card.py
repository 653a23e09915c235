"""Write a model bundle: the inference model, ``bundle.json``, and a model card with plots."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2

from ocr_core.recognition.bundle import MODEL_FILE, write_metadata
from ocr_core.recognition.model import build_model
from ocr_core.recognition.normalise import CONTRACT
from ocr_core.training.corpus import BUNDLE_LABELS
from ocr_core.training.evaluate import COVERAGES, Report
from ocr_core.training.options import command_line
from ocr_core.training.plots import bar_chart, line_chart

# What each bundle is held to on the test sets: (set, figure, bound, at least?).
TARGETS: dict[str, list[tuple[str, str, float, bool]]] = {
    "digits": [
        ("test_mnist", "accuracy", 0.9965, True),
        ("test_pool", "accuracy", 0.997, True),
        ("test_mnist", "error_at_98", 0.001, False),
        ("test_pool", "error_at_98", 0.001, False),
        ("test_mnist", "ece_after", 0.01, False),
        ("test_pool", "ece_after", 0.01, False),
    ],
    "alnum": [
        ("test_pool_all", "accuracy", 0.915, True),
        ("test_pool_all", "error_at_80", 0.015, False),
        ("test_pool", "ece_after", 0.01, False),
        ("test_mnist", "ece_after", 0.01, False),
    ],
}
TEMPLATES = Path(__file__).parent / "templates"
SET_NAMES = {
    "val": "val (tuning)",
    "test_mnist": "MNIST test",
    "test_pool": "EMNIST pool test",
    "test_pool_all": "EMNIST pool test, all",
}


def _plots(folder: Path, report: Report, history: dict[str, list[float]]) -> None:
    epochs = list(range(1, len(history.get("loss", [])) + 1))
    line_chart(
        folder / "training_curves.png",
        [
            ("train loss", epochs, history.get("loss", [])),
            ("val loss", epochs, history.get("val_loss", [])),
            ("train error", epochs, [1 - a for a in history.get("accuracy", [])]),
            ("val error", epochs, [1 - a for a in history.get("val_accuracy", [])]),
        ],
        title="Training curves (train is augmented)",
        xlabel="epoch",
        ylabel="loss / error",
        xlim=(1, max(2, len(epochs))),
        ylim=(0, max([0.05, *history.get("val_loss", [0.05])[1:]]) * 1.2),
        points=True,
    )
    bar_chart(
        folder / "confused_pairs.png",
        [(f"{t} -> {p}", float(n)) for t, p, n in report.confusions],
        title="Most confused pairs on the test sets (true -> predicted)",
        xlabel="count",
    )
    test = "test_pool"
    rel = report.curves[test]
    line_chart(
        folder / "reliability.png",
        [
            ("ideal", [0, 1], [0, 1]),
            (
                "before (T=1)",
                [c for c, _, _ in rel["reliability_before"]],
                [a for _, a, _ in rel["reliability_before"]],
            ),
            (
                f"after (T={report.temperature:.2f})",
                [c for c, _, _ in rel["reliability_after"]],
                [a for _, a, _ in rel["reliability_after"]],
            ),
        ],
        title="Reliability diagram, EMNIST pool test (15 bins)",
        xlabel="mean confidence in bin",
        ylabel="accuracy",
        xlim=(0, 1),
        ylim=(0, 1),
        points=True,
    )
    worst = max(max(report.curves[n]["error"][-1:] or [0.0]) for n in report.curves)
    line_chart(
        folder / "error_vs_coverage.png",
        [(SET_NAMES[n], c["coverage"], c["error"]) for n, c in report.curves.items()],
        title="Error among accepted characters vs coverage",
        xlabel="coverage (share accepted, most confident first)",
        ylabel="error",
        xlim=(0.8, 1.0),
        ylim=(0, max(0.005, worst * 1.1)),
        marks=[
            (report.metrics["val"]["coverage_at_threshold"], f"threshold {report.threshold:.3f}")
        ],
    )


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def _provenance(t: dict[str, Any]) -> list[str]:
    """Fine-tuning and extra training data, as card lines (empty when there were none).

    A bundle fine-tuned from a bundle that was itself fine-tuned gets one line per step, back to
    the bundle trained from scratch, each with the command that made it.
    """
    lines = []
    source = t.get("init_from")
    while source:
        base = source.get("training", {})
        lines.append(
            f"- Fine-tuned from `{source['path']}` as it was on {source.get('written', '?')}, "
            f"itself trained for {base.get('epochs_run', '?')} epochs on "
            f"{', '.join(base.get('sources', {}).get('train', ['?']))}"
            + (f" by `{command_line(base, source['path'])}`." if "epochs" in base else ".")
        )
        source = base.get("init_from")
    for crops in t.get("form_crops") or []:
        made = crops.get("made", {})
        lines.append(
            f"- Form crops: {crops['examples']} crops (x{t['form_crops_repeat']}) from "
            f"`{crops['file']}`: {made.get('pages', '?')} synthetic pages (seed "
            f"{made.get('seed', '?')}) written in {made.get('handwriting', '?')}, cut by the "
            "pipeline's own segmentation (`python -m segmentation.synthetic.harvest`)."
        )
    if t.get("reviewed"):
        lines.append(
            f"- Reviewed crops: {t['reviewed']['examples']} (x{t['reviewed']['repeat']}) from "
            f"`{t['reviewed']['folder']}`."
        )
    return lines


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=False,  # markdown, not HTML; every value comes from our own bundle.json
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["pct"] = _pct
    return env


def render_card(name: str, meta: dict[str, Any]) -> str:
    """The model card (markdown) of a bundle, from ``templates/card.md.j2``.

    Args:
        name: the bundle folder's name.
        meta: the bundle's ``bundle.json``.
    """
    t = meta["training"]
    return (
        _environment()
        .get_template("card.md.j2")
        .render(
            name=name,
            meta=meta,
            t=t,
            provenance=_provenance(t),
            command=command_line(t, f"data/models/{name}"),
            coverages=COVERAGES,
            set_names=SET_NAMES,
            targets=[t for t in TARGETS.get(meta["bundle"], []) if t[0] in meta["metrics"]],
        )
    )


def write_bundle(
    out: Path,
    model: Any,
    bundle: str,
    report: Report,
    training: dict[str, Any],
    *,
    target_error: float,
) -> Path:
    """Write a bundle folder, replacing an existing one only when the new one is complete.

    Args:
        out: the bundle folder.
        model: the trained model (its weights are copied into a fresh, optimizer-free model).
        bundle: ``digits`` or ``alnum``.
        report: calibration and figures from ``evaluate``.
        training: data and settings to record.
        target_error: the error the review threshold was chosen for.

    Returns:
        The bundle folder.
    """
    labels = BUNDLE_LABELS[bundle]
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    clean = build_model(len(labels))
    clean.set_weights(model.get_weights())
    clean.save(tmp / MODEL_FILE)
    meta = {
        "format": 1,
        "name": out.name,
        "bundle": bundle,
        "labels": list(labels),
        "contract": CONTRACT,
        "temperature": report.temperature,
        "threshold": report.threshold,
        "target_error": target_error,
        "metrics": report.metrics,
        "confusions": report.confusions,
        "training": training,
        "written": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    write_metadata(tmp, meta)
    _plots(tmp, report, training["history"])
    (tmp / "README.md").write_text(render_card(out.name, meta))
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out
