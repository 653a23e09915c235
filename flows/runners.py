"""Choose where a flow's per-document tasks run: local threads, or a Dask cluster."""

from __future__ import annotations

from typing import Any, TypeVar

from prefect import Flow

F = TypeVar("F", bound=Flow[Any, Any])


def with_dask(flow: F, address: str | None, workers: int = 2) -> F:
    """Return ``flow`` set to run its tasks on Dask, or unchanged when ``address`` is empty.

    Args:
        flow: a Prefect flow.
        address: ``local`` for a ``LocalCluster`` of ``workers`` processes started for the run,
            or the address of a running Dask scheduler (``tcp://host:8786``).
        workers: worker processes of a local cluster.
    """
    if not address:
        return flow
    from prefect_dask import DaskTaskRunner

    if address == "local":
        runner = DaskTaskRunner(
            cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True}
        )
    else:
        runner = DaskTaskRunner(address=address)
    return flow.with_options(task_runner=runner)  # type: ignore[arg-type,return-value]
