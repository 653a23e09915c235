"""Serve the deployments on the local Prefect server: digitising, folder watch, review, training.

The folder watch runs in one of two modes (``DIGITISE_WATCH_MODE``). ``immediate`` (the default):
a light watcher in this process starts ``digitise-forms/folder-watch`` as soon as a file in the
inbox has settled, so an empty inbox makes no runs at all. ``schedule``: the deployment runs
every ``DIGITISE_POLL_INTERVAL_S`` seconds, or on ``DIGITISE_WATCH_CRON`` ("0 2 * * *" for every
night at 02:00); a run that finds the inbox empty ends at once as ``Nothing to do``. In both,
files left in ``processing/`` by a run that died are taken up at start-up and then periodically.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from prefect import serve
from prefect.client.schemas.schedules import CronSchedule
from prefect.settings import PREFECT_RUNNER_POLL_FREQUENCY, temporary_settings

from flows.digitise_flow import digitise_forms
from flows.prefect_server import local_server, prefect_home, quiet_console
from flows.review import apply_review_flow
from flows.runners import with_dask
from flows.train import train_model
from flows.watch import InboxWatcher, serve_lock, settle_dead_runs
from ocr_core.cli import CliParser, add_common_options, load_cli_settings, run_cli
from ocr_core.errors import ConfigurationError
from ocr_core.settings import Settings

IMMEDIATE_CHECK_S = 1.0  # how often the immediate watcher lists the inbox (cheap: no run)
RUNNER_POLL_S = 1  # how often serve asks the server for runs to start


def main(argv: Sequence[str] | None = None) -> int:
    """Start or reuse the local server and serve every deployment until interrupted."""
    parser = CliParser(prog="python -m flows.serve", description=__doc__.splitlines()[0])
    add_common_options(parser)
    args = parser.parse_args(argv)
    return run_cli(lambda: _serve(args.verbose), debug=args.debug)


def _serve(verbose: bool) -> int:
    settings = load_cli_settings()
    schedule = watch_schedule(settings)
    started = datetime.now(UTC)
    for folder in settings.run_time_dirs():
        folder.mkdir(parents=True, exist_ok=True)
    with serve_lock(prefect_home()), local_server() as url:
        quiet_console(verbose)
        crashed, missed = settle_dead_runs(started, timedelta(seconds=settings.poll_interval_s))
        print(f"Prefect UI: {url.removesuffix('/api')}  (Ctrl-C stops serving)")
        if crashed or missed:
            print(f"Marked {crashed} run(s) of a stopped serve Crashed; cancelled {missed} missed")
        immediate = settings.watch_mode == "immediate"
        period = IMMEDIATE_CHECK_S if immediate else settings.poll_interval_s
        how = "as files settle" if immediate else f"on schedule {_describe(settings)}"
        print(f"Watching {settings.inbox_dir}: a run starts {how}")
        watcher = InboxWatcher(settings, min(period, settings.poll_interval_s), immediate)
        watcher.start()
        digitise = with_dask(digitise_forms, settings.dask_address)
        deployments = [
            digitise.to_deployment(name="manual"),
            digitise.to_deployment(
                name="folder-watch",
                parameters={"watch_inbox": True},
                description=f"Digitise settled files dropped into {settings.inbox_dir}",
                **schedule,
            ),
            apply_review_flow.to_deployment(name="manual"),
            train_model.to_deployment(name="manual"),
        ]
        try:
            # The watcher's runs are picked up within RUNNER_POLL_S, not Prefect's default 10 s.
            with temporary_settings(updates={PREFECT_RUNNER_POLL_FREQUENCY: RUNNER_POLL_S}):
                serve(*deployments)  # type: ignore[arg-type]  # sync context: never coroutines
        finally:
            watcher.stop()
    return 0


def watch_schedule(settings: Settings) -> dict[str, Any]:
    """The folder-watch deployment's schedule arguments: none in immediate mode.

    Raises:
        ConfigurationError: ``DIGITISE_WATCH_CRON`` is not a valid cron expression.
    """
    if settings.watch_mode == "immediate":
        return {}
    if settings.watch_cron:
        try:
            CronSchedule(cron=settings.watch_cron)
        except ValueError as e:
            raise ConfigurationError(
                f"DIGITISE_WATCH_CRON {settings.watch_cron!r} is not a cron expression",
                remedy="Give five fields, such as '0 2 * * *' for every night at 02:00",
            ) from e
        return {"cron": settings.watch_cron}
    return {"interval": settings.poll_interval_s}


def _describe(settings: Settings) -> str:
    if settings.watch_cron:
        return f"cron {settings.watch_cron!r}"
    return f"every {settings.poll_interval_s} s"


if __name__ == "__main__":
    sys.exit(main())
