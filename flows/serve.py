"""Serve the deployments on the local Prefect server: digitising, folder watch, review, training."""

from __future__ import annotations

import sys

from prefect import serve

from flows.digitise import digitise_forms
from flows.prefect_server import local_server
from flows.review import apply_review_flow
from flows.runners import with_dask
from flows.train import train_model
from ocr_core.settings import load_settings


def main() -> int:
    """Start or reuse the local server and serve every deployment until interrupted."""
    settings = load_settings()
    digitise = with_dask(digitise_forms, settings.dask_address)
    with local_server() as url:
        print(f"Prefect UI: {url.removesuffix('/api')}  (Ctrl-C stops serving)")
        deployments = [
            digitise.to_deployment(name="manual"),
            digitise.to_deployment(
                name="folder-watch",
                interval=settings.poll_interval_s,
                parameters={"watch_inbox": True},
                concurrency_limit=1,
                description=f"Digitise settled files dropped into {settings.inbox_dir}",
            ),
            apply_review_flow.to_deployment(name="manual"),
            train_model.to_deployment(name="manual"),
        ]
        serve(*deployments)  # type: ignore[arg-type]  # sync context: never coroutines
    return 0


if __name__ == "__main__":
    sys.exit(main())
