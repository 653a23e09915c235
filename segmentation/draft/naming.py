"""A field's name, charset and validators, proposed from its printed label."""

from __future__ import annotations

import re
from dataclasses import dataclass

from segmentation.records import FieldSpec

CHARSET_NAMES = ("digits", "upper", "lower", "letters", "alnum")
UK_POSTCODE = "^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$"

# Words of common labels and the charset their answers are written in. A label matching
# rules of different charsets (e.g. "City, state, zip") gets alnum.
_RULES: tuple[tuple[str, str], ...] = (
    (r"date|dob|birth|born", "digits"),
    (r"post ?code|postal", "alnum"),
    (r"zip", "digits"),
    (r"phone|telephone|tel|mobile|fax", "digits"),
    (r"sort ?code|account|card|iban|amount|total|qty|quantity|age|year|month|day|term", "digits"),
    (r"number|no|num|nr|#", "digits"),
    (r"surname|forenames?|(first|last|middle|given|family) ?names?|names?|initials?", "upper"),
    (r"town|city|county|state|country|street|road|address|place|branch|nationality", "upper"),
    (r"title|occupation|sex|gender|signature", "upper"),
)
# A date mask such as DDMMYYYY or DD/MM/YY (Tesseract may read a Y as V).
_DATE_TOKEN = re.compile(
    r"\b(?=[DMYVO/.-]*[DO][DO])(?=[DMYVO/.-]*MM)[DMYVO/.-]{4,10}\b", re.IGNORECASE
)
# A charset named in brackets after a label, as our own blanks print it ("(digits)"); OCR
# may read a bracket as another one, or miss it.
_HINT = rf"\s*[(\[{{|]\s*({'|'.join(CHARSET_NAMES)})\b\s*[)\]}}|]?"


@dataclass(frozen=True, slots=True)
class Proposal:
    """What the drafter proposes for a field.

    Attributes:
        name: an identifier (letters, digits, _), unique in the template.
        label: the printed label as read ("" when none was found).
        charset: one of CHARSET_NAMES.
        validate: validators for the template's ``validate`` (may be empty).
        note: why the charset was chosen, when it is a guess (a YAML comment), else "".
    """

    name: str
    label: str
    charset: str
    validate: dict[str, object]
    note: str = ""


def propose(fields: list[FieldSpec], labels: list[str]) -> list[Proposal]:
    """Names, charsets and validators for the fields, from their labels (same order).

    Fields without a label are named ``field_NN`` by their place in reading order; names are
    made unique with ``_2``, ``_3``...
    """
    out: list[Proposal] = []
    seen: dict[str, int] = {}
    for number, (field, label) in enumerate(zip(fields, labels, strict=True), start=1):
        proposal = propose_one(field, label.strip(), number)
        count = seen.get(proposal.name, 0) + 1
        seen[proposal.name] = count
        if count > 1:
            proposal = Proposal(
                f"{proposal.name}_{count}",
                proposal.label,
                proposal.charset,
                proposal.validate,
                proposal.note,
            )
        out.append(proposal)
    return out


def propose_one(field: FieldSpec, label: str, number: int) -> Proposal:
    """The proposal for one field from its label (see ``propose``)."""
    words = _DATE_TOKEN.sub(" ", re.sub(r"\([^)]*\)?", " ", re.sub(_HINT, " ", label, flags=re.I)))
    # A sample to copy, or a sentence of instructions, is no name.
    wordy = len(words.split()) > 6
    name = "" if _sample(label) or wordy else label_name(words)
    name = name or f"field_{number:02d}"
    hint = _hint(label)
    cells = len(field.cells)
    validate: dict[str, object] = {}
    date = _date_format(label, cells)
    if hint:
        charset, note = hint, ""
    elif _sample(label):
        charset, note = _sample(label), "from the sample printed by the box"
    elif wordy:
        charset, note = "alnum", "the text by the box is no label: alnum"
    else:
        charset, note = _charset(words)
    dated = re.search(r"\b(date|dob|birth)\b", label, re.IGNORECASE)
    if field.kind == "box" and dated and charset == "digits":
        charset, note = "alnum", "a date written freely may hold / or a month's name: alnum"
    if date and field.kind == "comb" and charset in ("digits", "alnum"):
        charset, validate = "digits", {"date": date}
    if re.search(r"post ?code", label, re.IGNORECASE) and field.kind == "comb" and 5 <= cells <= 8:
        validate = {"regex": UK_POSTCODE}
        note = "UK postcode format; edit or remove the regex for other countries"
    if re.search(r"\bcard\b", label, re.IGNORECASE) and 13 <= cells <= 19:
        validate = {"luhn": True}
    if field.kind == "mark":
        charset, validate, note = field.charset, {}, ""  # a tick box reads 1 or 0, nothing else
    shown = re.sub(_HINT, "", label, flags=re.IGNORECASE)
    return Proposal(name, shown.strip(), charset, validate, note)


def label_name(label: str) -> str:
    """An identifier from a label: lower case, words joined by ``_`` (at most 5 words)."""
    words = re.findall(r"[a-z0-9]+", label.lower())
    words = [w for w in words if not w.isdigit()][:5]
    name = "_".join(words)
    return name if name and name[0].isalpha() else ""


def _hint(label: str) -> str:
    """A charset named in brackets after the label, as our own blanks print them."""
    for found in re.findall(_HINT, label.lower()):
        if found in CHARSET_NAMES:
            return str(found)
    return ""


def _sample(label: str) -> str:
    """The charset of a sample string printed for the writer to copy (``0123``, ``abcd``)."""
    text = label.strip()
    if len(text) < 2 or not text.isalnum():
        return ""
    if text.isdigit():
        return "digits"
    if len(text) >= 10 and text.isalpha() and (text.islower() or text.isupper()):
        return "lower" if text.islower() else "upper"
    return ""


def _charset(words: str) -> tuple[str, str]:
    """The charset the label's words call for, and a note when it is only a default."""
    lowered = words.lower()
    found = {
        charset
        for pattern, charset in _RULES
        if re.search(rf"(?<![a-z])({pattern})(?![a-z])", lowered)
    }
    if len(found) == 1:
        return found.pop(), ""
    if not found:
        return "alnum", "no charset evident from the label: alnum"
    if found == {"digits", "upper"} and re.search(r"\b(no|number|num|nr)\b", lowered):
        return "digits", ""  # "house number", "account no"
    return "alnum", "the label mixes kinds of answer: alnum"


def _date_format(label: str, cells: int) -> str:
    """A ``strptime`` format from a date mask in the label, or from 6/8 cells of a date."""
    token = _DATE_TOKEN.search(label)
    if token:
        mask = token.group(0).upper().replace("V", "Y").replace("O", "D")
        runs = re.findall(r"D+|M+|Y+", mask)
        # One run each of days, months and years, as a date mask has; OCR noise is no mask.
        if sorted(r[0] for r in runs) == ["D", "M", "Y"]:
            return "".join(
                {"D": "%d", "M": "%m"}.get(r[0], "%Y" if len(r) > 2 else "%y") for r in runs
            )
    if re.search(r"\b(date|dob|birth)\b", label, re.IGNORECASE):
        return {8: "%d%m%Y", 6: "%d%m%y"}.get(cells, "")
    return ""
