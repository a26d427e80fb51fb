"""A seeded bootstrap screen gives the same numbers under joblib's dask backend."""

from __future__ import annotations

import numpy as np
import pytest

from immune_correlates.stats.screen import screen

from .conftest import random_cohort


def test_seeded_bootstrap_screen_is_identical_on_a_dask_local_cluster():
    distributed = pytest.importorskip("distributed")
    import joblib

    df = random_cohort(21, n=34, m=5)
    feats = [f"f{j}" for j in range(5)]
    kw = dict(duration="time", event="status", model="firth_cox", n_boot=30, seed=99)
    local = screen(df, feats, n_jobs=1, **kw)
    with distributed.LocalCluster(processes=False, n_workers=1, threads_per_worker=2,
                                  dashboard_address=None) as cluster, distributed.Client(cluster):
        with joblib.parallel_config(backend="dask"):
            remote = screen(df, feats, n_jobs=2, **kw)
    np.testing.assert_array_equal(local["boot_ci_lower"].to_numpy(), remote["boot_ci_lower"].to_numpy())
    np.testing.assert_array_equal(local["boot_ci_upper"].to_numpy(), remote["boot_ci_upper"].to_numpy())
    np.testing.assert_array_equal(local["estimate"].to_numpy(), remote["estimate"].to_numpy())
