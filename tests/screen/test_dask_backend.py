"""Seeded resampling gives the same numbers under joblib's dask backend; the progress bar is optional."""

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
    kw = dict(duration="time", event="status", model="firth_cox", n_boot=250, seed=99)  # 3 chunks of 102
    local = screen(df, feats, n_jobs=1, **kw)
    with distributed.LocalCluster(processes=False, n_workers=1, threads_per_worker=2,
                                  dashboard_address=None) as cluster, distributed.Client(cluster):
        with joblib.parallel_config(backend="dask"):
            remote = screen(df, feats, n_jobs=2, **kw)
    np.testing.assert_array_equal(local["boot_ci_lower"].to_numpy(), remote["boot_ci_lower"].to_numpy())
    np.testing.assert_array_equal(local["boot_ci_upper"].to_numpy(), remote["boot_ci_upper"].to_numpy())
    np.testing.assert_array_equal(local["estimate"].to_numpy(), remote["estimate"].to_numpy())


def test_progress_bar_is_shown_only_when_asked(capsys):
    df = random_cohort(22, n=30, m=3)
    feats = [f"f{j}" for j in range(3)]
    quiet = screen(df, feats, outcome="y", n_boot=20, seed=1)
    assert "bootstrap" not in capsys.readouterr().err
    loud = screen(df, feats, outcome="y", n_boot=20, seed=1, progress=True)
    assert "bootstrap" in capsys.readouterr().err
    np.testing.assert_array_equal(quiet["boot_ci_lower"].to_numpy(), loud["boot_ci_lower"].to_numpy())
