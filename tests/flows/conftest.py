"""Flow tests run against one temporary Prefect server and database for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """A throw-away Prefect API (temporary SQLite database) for flows run by tests."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness():
        yield
