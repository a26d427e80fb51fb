"""Big runs on a dask.distributed cluster: same numbers as one core, and progress bars that work there.

One small process-based LocalCluster (2 workers, 1 thread each) serves every
test of this module: a bootstrap screen and a permutation maxT through
``joblib.parallel_config(backend="dask")``, and power simulations submitted as
futures with dask's own progress bar.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import immune_correlates as ic
from immune_correlates.stats.screening.permutation import permutation_test
from immune_correlates.stats.screening.screen import screen

from .conftest import random_cohort

distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")

FEATS = [f"f{j}" for j in range(5)]
BOOT = ["boot_se", "boot_ci_lower", "boot_ci_upper", "n_boot_failed", "estimate"]


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        cl = distributed.Client(cluster)
    yield cl
    cl.close()
    cluster.close()


@pytest.mark.slow  # more than two seconds: full suite only
def test_seeded_bootstrap_screen_is_identical_on_a_dask_cluster_and_shows_progress(client, capsys):
    df = random_cohort(21, n=34, m=5)
    kw = {"duration": "time", "event": "status", "model": "firth_cox", "n_boot": 60, "seed": 99}
    local = screen(df, FEATS, n_jobs=1, **kw)
    capsys.readouterr()
    with joblib.parallel_config(backend="dask"):
        remote = screen(df, FEATS, n_jobs=2, progress=True, **kw)
    err = capsys.readouterr().err
    assert "bootstrap" in err and "100%" in err
    for col in BOOT:
        np.testing.assert_array_equal(local[col].to_numpy(), remote[col].to_numpy())


def test_permutation_maxt_is_identical_on_a_dask_cluster_and_shows_progress(client, capsys):
    df = random_cohort(23, n=30, m=5)
    kw = {"outcome": "y", "model": "firth", "n_perm": 40, "seed": 3}
    local = permutation_test(df, FEATS, **kw)
    capsys.readouterr()
    with joblib.parallel_config(backend="dask"):
        remote = permutation_test(df, FEATS, n_jobs=2, progress=True, **kw)
    assert "permutations" in capsys.readouterr().err
    pd.testing.assert_frame_equal(local, remote)
    assert np.all(remote["p_maxt"] >= remote["p_perm"] - 1e-15)


def test_power_simulations_run_as_futures_with_dask_progress(client, capsys):
    from distributed.diagnostics.progressbar import progress

    sizes = [20, 34]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        local = [ic.power(analysis="firth", n_sim=60, seed=5, n_patients=k, null=False) for k in sizes]
    capsys.readouterr()
    futures = [
        client.submit(ic.power, analysis="firth", n_sim=60, seed=5, n_patients=k, null=False, pure=False) for k in sizes
    ]
    progress(futures)
    assert "Completed" in capsys.readouterr().out
    for res, ref in zip(client.gather(futures), local):
        pd.testing.assert_frame_equal(res.summary(), ref.summary())
        assert res.power == ref.power


def test_progress_bar_is_shown_only_when_asked(capsys):
    df = random_cohort(22, n=30, m=3)
    feats = [f"f{j}" for j in range(3)]
    quiet = screen(df, feats, outcome="y", n_boot=20, seed=1)
    assert "bootstrap" not in capsys.readouterr().err
    loud = screen(df, feats, outcome="y", n_boot=20, seed=1, progress=True)
    assert "bootstrap" in capsys.readouterr().err
    np.testing.assert_array_equal(quiet["boot_ci_lower"].to_numpy(), loud["boot_ci_lower"].to_numpy())
