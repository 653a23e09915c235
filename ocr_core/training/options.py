"""The one list of training options: the CLI, ``TrainConfig``, the flow and the card's command.

Each option is declared once here (name, type, default, help). ``build_parser`` makes the
command line of ``python -m ocr_core.training`` from the list, ``TrainOptions`` (a pydantic model)
the parameters of the ``train-model`` flow, ``TrainConfig`` takes its defaults from it, and
``command_line`` writes the command that trains a bundle again into its model card.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

PROG: Final = "python -m ocr_core.training"
BUNDLES: Final = ("alnum", "digits")
LEARNING_RATE: Final = 2e-3  # from fresh weights; fine-tuning wants about a tenth of it
REVIEWED_REPEAT: Final = 5  # why five: see TrainConfig.reviewed_repeat
FORM_CROPS_REPEAT: Final = 1  # why once: see TrainConfig.form_crops_repeat


@dataclass(frozen=True, slots=True)
class Option:
    """One training option.

    Attributes:
        name: the ``TrainConfig`` field and flow parameter; the CLI flag is ``--name-with-dashes``.
        type: the type of one value (``bool`` for a switch).
        default: the value when the option is not given.
        help: what it does, for ``--help`` and the flow's parameter form.
        choices: the values allowed, when only a few are.
        many: takes one or more values (a list).
        required: the command line must give it (the flow uses ``default``).
        off_flag: for a switch that is on by default, the flag that turns it off.
        config: a ``TrainConfig`` field (else a run option, such as ``restart``).
        where: ``all``; ``cli``: the command line only; ``run``: not in the card's command.
        card: ``always`` in the card's command, or only when it differs from ``default``.
        recorded: how the option's value is read back from a bundle's training record.
    """

    name: str
    type: type
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    many: bool = False
    required: bool = False
    off_flag: str | None = None
    config: bool = True
    where: Literal["all", "cli", "run"] = "all"
    card: Literal["always", "changed"] = "changed"
    recorded: Callable[[dict[str, Any]], Any] | None = None

    @property
    def flag(self) -> str:
        """The command-line flag, e.g. ``--batch-size``."""
        return "--" + self.name.replace("_", "-")


def _init_from(t: dict[str, Any]) -> str | None:
    return t["init_from"]["path"] if t.get("init_from") else None


def _form_crops(t: dict[str, Any]) -> list[str] | None:
    return [c["file"] for c in t["form_crops"]] if t.get("form_crops") else None


def _reviewed(t: dict[str, Any]) -> str | None:
    return t["reviewed"]["folder"] if t.get("reviewed") else None


OPTIONS: Final[tuple[Option, ...]] = (
    Option("bundle", str, "digits", "which bundle", BUNDLES, required=True, card="always"),
    Option("epochs", int, 15, "most epochs (early stopping on val may end sooner)", card="always"),
    Option("batch_size", int, 128, "images per step", card="always"),
    Option(
        "learning_rate",
        float,
        LEARNING_RATE,
        "peak learning rate (about a tenth of the default to fine-tune)",
        card="always",
    ),
    Option("patience", int, 4, "epochs without a better val loss before stopping"),
    Option("seed", int, 0, "seeds data order, augmentation and weights"),
    Option("limit", int, None, "images per set (quick runs)"),
    Option("augment", bool, True, "distort training batches", off_flag="--no-augment"),
    Option(
        "init_from",
        Path,
        None,
        "bundle folder (or .keras file) to start from: fine-tune it instead of training anew",
        recorded=_init_from,
    ),
    Option(
        "form_crops",
        Path,
        None,
        "crop files from python -m segmentation.synthetic.harvest to add to the train set",
        many=True,
        recorded=_form_crops,
    ),
    Option(
        "form_crops_repeat",
        int,
        FORM_CROPS_REPEAT,
        "copies of each form crop in the train set",
        card="always",
        recorded=lambda t: t.get("form_crops_repeat") if t.get("form_crops") else None,
    ),
    Option(
        "reviewed",
        Path,
        None,
        "folder of reviewed crops (labels.csv + images) to add to the train set "
        "(default: the settings' reviewed_dir when it holds labels.csv)",
        recorded=_reviewed,
    ),
    Option(
        "use_reviewed",
        bool,
        True,
        "add reviewed crops (--no-reviewed adds none)",
        off_flag="--no-reviewed",
        config=False,
        recorded=lambda t: bool(t.get("reviewed")),
    ),
    Option(
        "reviewed_repeat", int, REVIEWED_REPEAT, "copies of each reviewed crop in the train set"
    ),
    Option("data_dir", Path, None, "the datasets folder (default: the settings')", where="run"),
    Option("out", Path, None, "bundle folder (default: models_dir/BUNDLE)", where="run"),
    Option("checkpoint_dir", Path, None, "where checkpoints go", where="run"),
    Option("restart", bool, False, "discard an existing checkpoint", config=False, where="run"),
    Option("debug", bool, False, "show tracebacks of errors", config=False, where="cli"),
)
BY_NAME: Final = {o.name: o for o in OPTIONS}


def default(name: str) -> Any:
    """The default of an option (``TrainConfig`` takes its defaults from here)."""
    return BY_NAME[name].default


def _add_argument(parser: argparse._ActionsContainer, option: Option) -> None:
    if option.type is bool:
        if option.off_flag:
            parser.add_argument(
                option.off_flag, dest=option.name, action="store_false", help=option.help
            )
        else:
            parser.add_argument(option.flag, action="store_true", help=option.help)
        return
    parser.add_argument(
        option.flag,
        type=option.type,
        default=[] if option.many else option.default,
        required=option.required,
        choices=option.choices or None,
        nargs="+" if option.many else None,
        help=option.help,
    )


def build_parser(
    description: str | None = None, epilog: str | None = None
) -> argparse.ArgumentParser:
    """The command line of ``python -m ocr_core.training``, one argument per option.

    ``--reviewed DIR`` and ``--no-reviewed`` exclude each other.
    """
    parser = argparse.ArgumentParser(prog=PROG, description=description, epilog=epilog)
    reviewed = parser.add_mutually_exclusive_group()
    for option in OPTIONS:
        exclusive = option.name in ("reviewed", "use_reviewed")
        _add_argument(reviewed if exclusive else parser, option)
    return parser


def _field(option: Option) -> tuple[Any, Any]:
    kind: Any = Literal[option.choices] if option.choices else option.type
    if option.many:
        kind = list[kind]
    if option.default is None:
        kind = kind | None
    return kind, Field(option.default, description=option.help)


if TYPE_CHECKING:
    TrainOptions = BaseModel
else:
    TrainOptions = create_model(
        "TrainOptions",
        __config__=ConfigDict(extra="forbid"),
        __doc__=f"The train-model flow's parameters: the options of ``{PROG}``.",
        **{o.name: _field(o) for o in OPTIONS if o.where != "cli"},
    )


def command_line(t: Mapping[str, Any], out: str) -> str:
    """The command line that trains a bundle again, as it was trained, into ``out``.

    Args:
        t: the bundle's training record (``bundle.json``'s ``training``).
        out: the bundle folder the command writes.
    """
    parts = [PROG]
    for option in OPTIONS:
        if option.where != "all":
            continue
        value = option.recorded(dict(t)) if option.recorded else t.get(option.name)
        parts.extend(_card_args(option, value))
    return " ".join([*parts, f"--out {out}"])


def _card_args(option: Option, value: Any) -> Sequence[str]:
    if value is None:
        return []
    if option.type is bool:
        return [option.off_flag] if option.off_flag and not value else []
    if option.card == "changed" and value == option.default:
        return []
    if option.many:
        return [option.flag, *map(str, value)]
    return [option.flag, str(value)]
