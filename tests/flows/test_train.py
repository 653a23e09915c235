import json
from pathlib import Path

import pytest

import flows.train
from ocr_core.training.options import TrainOptions
from ocr_core.training.train import TrainConfig


def test_flow_calls_train_bundle_and_reports(
    prefect_harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[TrainConfig] = []

    def fake_train(config: TrainConfig, *, restart: bool, on_epoch: object) -> Path:
        seen.append(config)
        assert callable(on_epoch)
        on_epoch(1, {"val_loss": 0.1, "val_accuracy": 0.9, "seconds": 1.0})
        config.out.mkdir(parents=True)
        metrics = {"val": {"accuracy": 0.9, "ece_after": 0.01}}
        (config.out / "bundle.json").write_text(json.dumps({"metrics": metrics}))
        return config.out

    monkeypatch.setattr(flows.train, "train_bundle", fake_train)
    options = TrainOptions(
        bundle="alnum", epochs=2, batch_size=32, data_dir=tmp_path, out=tmp_path / "b"
    )
    out = flows.train.train_model(options)
    assert out == str(tmp_path / "b")
    assert seen[0].bundle == "alnum" and seen[0].epochs == 2 and seen[0].batch_size == 32


@pytest.mark.slow
def test_flow_trains_a_real_bundle(
    prefect_harness: None, datasets_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGITISE_CHECKPOINTS_DIR", str(tmp_path / "ckpt"))
    options = TrainOptions(
        bundle="digits", epochs=1, data_dir=datasets_dir, out=tmp_path / "d", limit=500
    )
    out = flows.train.train_model(options)
    meta = json.loads((Path(out) / "bundle.json").read_text())
    assert meta["training"]["epochs_run"] == 1 and (tmp_path / "ckpt" / "d").is_dir()
