"""The one list of training options and what is built from it."""

import dataclasses
import json
from pathlib import Path

import pytest

from ocr_core.training.fitting import TrainConfig
from ocr_core.training.options import OPTIONS, TrainOptions, build_parser, command_line

MODELS = Path(__file__).resolve().parents[3] / "data" / "models"


def test_train_config_has_the_listed_options_and_defaults() -> None:
    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    listed = {o.name: o for o in OPTIONS if o.config}
    assert set(fields) == set(listed)
    for name, option in listed.items():
        if fields[name].default is not dataclasses.MISSING and not option.many:
            assert fields[name].default == option.default, name


def test_cli_and_flow_parameters_come_from_the_list() -> None:
    cli = {a.dest for a in build_parser()._actions} - {"help"}
    assert cli == {o.name for o in OPTIONS}
    flow = set(TrainOptions.model_json_schema()["properties"])
    assert flow == {o.name for o in OPTIONS if o.where != "cli"}
    assert TrainOptions().model_dump()["bundle"] == "digits"


@pytest.mark.parametrize("name", ["digits", "alnum"])
def test_card_command_is_the_shipped_cards(name: str) -> None:
    training = json.loads((MODELS / name / "bundle.json").read_text())["training"]
    command = command_line(training, f"data/models/{name}")
    assert f"  `{command}`" in (MODELS / name / "README.md").read_text().splitlines()
