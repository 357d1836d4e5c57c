"""One LocalCluster for the whole module set (its start-up dominates the run time)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="package")
def cluster_client() -> Iterator[Any]:
    """A 2-worker, 1-thread-each LocalCluster in this process, as the active client."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=False,
            dashboard_address=":0",  # a free port: two clusters may run at once
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client
