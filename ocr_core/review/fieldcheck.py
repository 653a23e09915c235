"""Check a reviewer's value for a field against the field's template spec: charset, size, rules."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path

from ocr_core.errors import DigitiseError
from ocr_core.reading.fields import validate_value
from ocr_core.recognition.charset import NAMED
from ocr_core.results.records import FieldKey, rules_key
from segmentation.records import FieldSpec, FieldValidation
from segmentation.templates import load_templates
from segmentation.tickspec import MARK_KINDS

log = logging.getLogger(__name__)


def check_field_value(value: str, spec: FieldSpec) -> list[str]:
    """Why ``value`` cannot be a field's value, one reason per problem; empty when it can.

    The one check of a person's value for a field (the review page and apply-review both ask
    here): its characters against the field's charset, its length against the field's cells,
    then the field's validators.

    Args:
        value: the value the reviewer gave (a space stands for a gap between characters).
        spec: the field's template spec.
    """
    if spec.kind in MARK_KINDS:
        return _mark_problems(value, spec)
    problems: list[str] = []
    if spec.charset:
        allowed = set(NAMED.get(spec.charset, spec.charset)) | {" "}
        wrong = sorted({c for c in value if c not in allowed})
        if wrong:
            shown = "".join(wrong)
            name = spec.charset if spec.charset in NAMED else f"{{{spec.charset}}}"
            hint = " (write capitals)" if spec.charset == "upper" else ""
            article = "an" if name[0] in "aeiou" else "a"
            problems.append(f"{shown!r} not allowed in {article} {name} field{hint}")
    size = len(spec.cells) or spec.max_chars
    # A comb's space is an empty cell; a box field's, between words, takes no room of its own.
    length = len(value.replace(" ", "")) if spec.kind == "box" else len(value)
    if size and length > size:
        problems.append(f"{length} characters, the field holds {size}")
    problems += validate_value(value, _rules(spec.validation))
    listed = spec.validation.choices
    if value and listed and value not in listed:
        problems.append(f"{value!r} is not one of the field's {len(listed)} listed values")
    return problems


def _mark_problems(value: str, spec: FieldSpec) -> list[str]:
    """A tick box takes 1 (ticked) or 0; a tick-one group one option's value, or none."""
    if spec.kind == "mark":
        return [] if value in ("0", "1") else [f"{value!r}: a tick box is 1 (ticked) or 0"]
    values = [o.value for o in spec.options]
    if value == "" or value in values:
        return []
    return [f"{value!r} is not an option ({', '.join(values)}; empty for none)"]


def _rules(validation: FieldValidation) -> dict[str, object]:
    return {
        k: v
        for k, v in (
            ("regex", validation.regex),
            ("date", validation.date),
            ("luhn", validation.luhn),
        )
        if v
    }


def field_specs(run_dir: Path, manifest: Mapping[str, object]) -> dict[FieldKey, FieldSpec]:
    """Each field's template spec in a run, from the templates its pages were read with.

    A field whose template can no longer be loaded (moved, or a template-free run) gets a spec
    with its recorded validators only (no charset), so that its validators still apply.

    Args:
        run_dir: the run folder (for the fields listed in its ``fields.csv``... via the manifest).
        manifest: the run's ``run.json``.
    """
    by_name = {}
    paths = [Path(str(p)) for p in manifest.get("templates", []) or []]  # type: ignore[attr-defined]
    try:
        by_name = {t.name: t for t in load_templates(paths)} if paths else {}
    except (DigitiseError, OSError) as e:
        log.warning("%s: templates not loaded (%s): checking validators only", run_dir, e)
    specs: dict[FieldKey, FieldSpec] = {}
    pages = manifest.get("page_templates", {}) or {}
    assert isinstance(pages, dict)
    for document, names in pages.items():
        for page, name in enumerate(names, start=1):
            template = by_name.get(name)
            for spec in template.fields if template else ():
                specs[(document, page, spec.name)] = spec
    return specs


def spec_for(
    key: FieldKey, specs: Mapping[FieldKey, FieldSpec], manifest: Mapping[str, object]
) -> FieldSpec:
    """The field's spec, or one holding only the validators the run recorded for it."""
    if key in specs:
        return specs[key]
    rules = (manifest.get("field_rules") or {}).get(rules_key(key), {})  # type: ignore[attr-defined]
    validation = FieldValidation(
        regex=rules.get("regex"), date=rules.get("date"), luhn=bool(rules.get("luhn"))
    )
    return FieldSpec(name=key[2], kind="box", charset="", box=(0, 0, 0, 0), validation=validation)


def read_manifest(run_dir: Path) -> dict[str, object]:
    """The run's ``run.json``; empty when it is missing or unreadable."""
    try:
        data = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
