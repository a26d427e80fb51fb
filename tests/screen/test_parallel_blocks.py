"""Blocks fix the numbers; tasks (how blocks are grouped and where they run) never change a bit."""

from __future__ import annotations

import os
import subprocess
import sys

import joblib
import numpy as np
import pytest

from immune_correlates.stats.engine import fit_cox_batch, parallel
from immune_correlates.stats.engine.models import make_design
from immune_correlates.stats.engine.parallel import group_blocks, model_blocks, run_blocks
from immune_correlates.stats.screening import _bootstrap

from .conftest import random_cohort


def test_blocks_cover_every_model_once_and_tasks_are_a_few_per_worker():
    blocks = model_blocks(300, 1000, 34)  # 300 replicates x 1000 features, n = 34, p = 1
    flat = np.concatenate([np.arange(b.start, b.stop) for b in blocks])
    np.testing.assert_array_equal(flat, np.arange(300 * 1000))
    assert max(len(b) for b in blocks) == 16_384 // 34
    groups = group_blocks(len(blocks), 4 * 2)
    assert len(groups) == 8 and [i for g in groups for i in g] == list(range(len(blocks)))
    assert max(map(len, groups)) - min(map(len, groups)) <= 1
    assert group_blocks(3, 8) == [range(1), range(1, 2), range(2, 3)]


def test_tasks_receive_the_job_as_an_argument_and_few_tasks_run(monkeypatch):
    calls = []
    real = parallel._task

    def counting(fn, job, blocks):
        calls.append((id(job), len(blocks)))
        return real(fn, job, blocks)

    monkeypatch.setattr(parallel, "_task", counting)
    job = np.arange(5.0)
    with joblib.parallel_config(backend="threading"):
        out = run_blocks(_scaled, job, [range(i, i + 1) for i in range(50)], n_jobs=2)
    assert out == [job.sum() * i for i in range(50)]
    assert len(calls) == 8 and {c[0] for c in calls} == {id(job)} and sum(c[1] for c in calls) == 50


def _scaled(job, block):
    return float(job.sum()) * block.start


@pytest.mark.parametrize("family", ["cox", "logistic"])
@pytest.mark.slow  # more than two seconds: full suite only
def test_bootstrap_is_bit_identical_across_jobs_grouping_and_backends(family, monkeypatch):
    df = random_cohort(31, n=30, m=4)
    F = df[[f"f{j}" for j in range(4)]].to_numpy()
    F[3, 1] = np.nan
    kw = (
        {"time": df["time"].to_numpy(), "event": df["status"].to_numpy()}
        if family == "cox"
        else {"y": df["y"].to_numpy()}
    )
    design = make_design(family, F, df[["age"]].to_numpy(), **kw)
    firth = np.array([True, False, True, False])

    def boot(n_jobs):
        return _bootstrap.bootstrap_coefficients(design, np.arange(4), firth, 37, seed=5, n_jobs=n_jobs, budget=200)[
            "replicates"
        ]

    ref = boot(1)
    assert np.isfinite(ref).mean() > 0.9
    runs = [boot(2)]
    with joblib.parallel_config(backend="threading"):
        runs.append(boot(3))
    monkeypatch.setattr(parallel, "TASKS_PER_WORKER", 1)
    runs.append(boot(2))
    for r in runs:
        np.testing.assert_array_equal(r, ref)


def test_processes_started_with_dask_allocator_setting_get_heap_temporaries_and_same_numbers():
    code = (
        "import numpy as np; from immune_correlates.stats.engine import parallel as p; "
        "from immune_correlates.stats.screening._bootstrap import bootstrap_coefficients as b; "
        "from immune_correlates.stats.engine.models import make_design as m; "
        "r = np.random.default_rng(1); d = m('cox', r.lognormal(size=(40, 3)), time=r.exponential(size=40), "
        "event=(r.random(40) < .8) * 1.0); print(p._trim_threshold_at_start()); "
        "print(b(d, [0, 1, 2], False, 30, seed=2)['replicates'].tobytes().hex())"
    )
    env = dict(os.environ, MALLOC_TRIM_THRESHOLD_="65536")
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    trim, hexed = res.stdout.split()
    assert trim == "65536" and parallel._trim_threshold_at_start() is None  # this process started without it
    r = np.random.default_rng(1)
    d = make_design("cox", r.lognormal(size=(40, 3)), time=r.exponential(size=40), event=(r.random(40) < 0.8) * 1.0)
    here = _bootstrap.bootstrap_coefficients(d, [0, 1, 2], False, 30, seed=2)["replicates"]
    assert here.tobytes().hex() == hexed


def test_heap_setting_is_scoped_to_the_outermost_block(monkeypatch):
    """Every batched fit runs under the heap setting, and leaving the outermost block sets glibc's
    thresholds back (to its defaults, or to the trim threshold a dask worker was started with, then
    trims); nested fits neither set nor restore anything."""
    calls = []

    class FakeLibc:
        def mallopt(self, param, value):
            calls.append(("mallopt", param, value))

        def malloc_trim(self, pad):
            calls.append(("trim", pad))

    monkeypatch.setattr(parallel, "_libc", lambda: FakeLibc())
    monkeypatch.setattr(parallel, "_heap_depth", 0)
    monkeypatch.setattr(parallel, "_trim_threshold_at_start", lambda: None)
    r = np.random.default_rng(3)
    x, t, e = r.normal(size=(5, 30, 1)), r.exponential(size=30), np.ones(30)
    raised = [("mallopt", -3, 32 * 1024 * 1024), ("mallopt", -1, 64 * 1024 * 1024)]
    fit_cox_batch(x, t, e)
    assert calls == [*raised, ("mallopt", -3, 128 * 1024), ("mallopt", -1, 128 * 1024)]  # set back on return
    calls.clear()
    monkeypatch.setattr(parallel, "_trim_threshold_at_start", lambda: 65536)
    with parallel.heap_temporaries():
        fit_cox_batch(x, t, e)  # nested: no second setting, no restore inside
        assert calls == raised
    assert calls[2:] == [("mallopt", -3, 128 * 1024), ("mallopt", -1, 65536), ("trim", 0)]
