"""Every result type pickles (save, cache, send to a worker); a walk of the package checks none is missing.

A round trip must give an object that shows the same table and the same
numbers, so each case compares ``repr`` (which prints ``summary()`` for the
result classes) and, where there is one, ``summary()`` itself.
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

import immune_correlates as ic
from immune_correlates import stats as st

FIXTURES = __import__("pathlib").Path(__file__).resolve().parents[1] / "reference" / "fixtures"


@pytest.fixture(scope="module")
def cohort():
    return ic.datasets.load_ofa_len()


@pytest.fixture(scope="module")
def frame(cohort):
    return ic.analysis_frame(cohort)


def _cox(frame):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ic.MissingDataWarning)
        return ic.fit_cox(frame, "pfs_months", "pfs_event", ["nk_per_ul"])


def _mixed(**kw):
    rng = np.random.default_rng(3)
    day = np.tile([0.0, 15.0, 60.0, 140.0], 10)
    long = pd.DataFrame(
        {
            "patient_id": np.repeat([f"P{i:02d}" for i in range(10)], 4),
            "day": day,
            "arm": np.repeat(["a", "b"], 20),
            "y": 100 + day * 0.2 + np.repeat(rng.normal(0, 5, 10), 4) + rng.normal(0, 3, 40),
        }
    )
    return ic.fit_mixed(long, "y ~ day * arm + (1 | patient_id)", **kw)


def _cycles():
    rng = np.random.default_rng(7)
    rows = pd.DataFrame(
        {"patient_id": np.repeat([f"P{i:02d}" for i in range(20)], 5), "cycle": np.tile(range(1, 6), 20)}
    )
    rows["nk_per_ul"] = np.repeat(rng.lognormal(5.8, 0.5, 20), 5)
    rows["neutropenia_g3"] = (rng.random(len(rows)) < 0.25).astype(int)
    return rows


#: Features for the penalized fits (complete in the bundled cohort).
PANEL = ["cd4_per_ul", "cd8_per_ul", "nk_per_ul", "cd4_cd8_ratio"]

CASES = {
    "Cohort": lambda c, f: c,
    "FeatureSet": lambda c, f: ic.build_features(c),
    "KaplanMeierResult": lambda c, f: ic.kaplan_meier(f, "pfs_months", "pfs_event", "cr"),
    "LogrankResult": lambda c, f: ic.logrank_test(f, "pfs_months", "pfs_event", "cr"),
    "CutpointResult": lambda c, f: ic.optimal_cutpoint(f, "nk_per_ul", "pfs_months", "pfs_event"),
    "compare_groups": lambda c, f: ic.compare_groups(f, ["nk_per_ul", "cd8_per_ul"], "cr"),
    "RocResult": lambda c, f: st.roc_curve(f, "cr", "nk_per_ul"),
    "ConcordanceResult": lambda c, f: ic.concordance_index(f["pfs_months"], f["pfs_event"], f["nk_per_ul"]),
    "WilcoxonResult": lambda c, f: st.wilcoxon_rank_sum([1.0, 2.5, 3.0], [2.0, 5.0, 6.0]),
    "KruskalResult": lambda c, f: st.kruskal_wallis([[1, 2, 3], [4, 5, 6], [7, 8, 9]]),
    "JonckheereResult": lambda c, f: st.jonckheere_terpstra([[1, 2], [3, 4], [5, 7]]),
    "FisherResult": lambda c, f: st.fisher_exact([[3, 4], [5, 1]]),
    "SeparationResult": lambda c, f: ic.detect_separation(f, "cr", ["nk_per_ul"]),
    "PHTestResult": lambda c, f: ic.ph_test(_cox(f)),
    "DiscriminationBootstrap": lambda c, f: st.bootstrap_discrimination(
        f, "nk_per_ul", outcome="cr", n_boot=20, seed=1
    ),
    "PowerResult": lambda c, f: ic.power(analysis="wilcoxon", n_sim=20, seed=1),
    "PowerCurve": lambda c, f: ic.power_curve(analysis="wilcoxon", n=(20,), n_sim=20, seed=1),
    "TrialDesign": lambda c, f: ic.TrialDesign(),
    "SimulatedTrial": lambda c, f: ic.simulate(seed=1),
    "MixedResult": lambda c, f: _mixed(),
    "MixedResult (Kenward-Roger)": lambda c, f: _mixed(df="kenward-roger"),
    "TrialBatch": lambda c, f: ic.design.simulate_trials(n_sim=3, seed=1),
    "LogisticResult": lambda c, f: _quiet(ic.fit_logistic, f, formula="cr ~ nk_per_ul + C(sex)", method="firth"),
    "CoxResult": lambda c, f: _cox(f),
    "FineGrayResult": lambda c, f: _quiet(ic.fit_fine_gray, f, "pfs_months", "pfs_cause", ["nk_per_ul", "sex"]),
    "CumulativeIncidenceResult": lambda c, f: ic.cumulative_incidence(f, "pfs_months", "pfs_cause", "cr"),
    "GrayTestResult": lambda c, f: ic.gray_test(f, "pfs_months", "pfs_cause", "cr"),
    "MantelByarResult": lambda c, f: _quiet(ic.mantel_byar, f, "pfs_months", "pfs_event", "response_months"),
    "OptimismResult": lambda c, f: _quiet(st.optimism_corrected, f, ["nk_per_ul"], outcome="cr", n_boot=10, seed=1),
    "IcsResult": lambda c, f: ic.ics_functions(pd.read_csv(FIXTURES / "ics_subsets.csv")),
    "FlowJoWorkspace": lambda c, f: _workspace(),
    "ImputedData": lambda c, f: _imputed(f),
    "PooledResult": lambda c, f: ic.fit_logistic(_imputed(f), "cr", ["nk_adcc_lu20"], method="firth"),
    "PooledResult(pool)": lambda c, f: ic.pool(
        [ic.fit_cox(d, "pfs_months", "pfs_event", ["nk_adcc_lu20"]) for d in _imputed(f)]
    ),
    "pooled screen": lambda c, f: ic.screen(_imputed(f), ["nk_adcc_lu20", "nk_per_ul"], outcome="cr"),
    "MetaAnalysisResult": lambda c, f: ic.meta_analysis([0.2, 0.5, -0.1], [0.2, 0.3, 0.25], labels=["A", "B", "C"]),
    "MetaAnalysisResult(by)": lambda c, f: ic.meta_analysis_by(
        f.assign(site=["a", "b"] * 17),
        "site",
        fit=ic.fit_cox,
        term="nk_per_ul",
        fit_options={"duration": "pfs_months", "event": "pfs_event", "covariates": ["nk_per_ul"]},
    ),
    "GEEResult": lambda c, f: ic.fit_gee(_cycles(), "neutropenia_g3 ~ nk_per_ul + cycle", "patient_id"),
    "differential_abundance": lambda c, f: ic.differential_abundance(
        *ic.design.simulate_population_counts((5, 5), n_populations=6, seed=1), group="group"
    ),
    "PenalizedResult": lambda c, f: ic.fit_penalized(f, "cr", PANEL, cv=3, seed=1),
    "SignatureValidation": lambda c, f: ic.validate_signature(f, "cr", PANEL, cv=3, outer=3, n_boot=4, seed=1),
    "StabilityResult": lambda c, f: ic.stability_selection(
        f, covariates=PANEL, duration="pfs_months", event="pfs_event", n_pairs=4, q=2, seed=1
    ),
}


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ic.ImmuneCorrelatesWarning)
        return fn(*args, **kwargs)


def _workspace():
    from tests.features.test_flowjo_workspace import BOOL

    return _quiet(ic.read_flowjo_workspace, BOOL)


def _result_types() -> set[str]:
    """Every result class of the package: a ``ResultDisplay`` defined in one of its modules."""
    import importlib
    import pkgutil

    from immune_correlates._results import ResultDisplay, TabledTestDisplay

    names = set()
    for mod in pkgutil.walk_packages(ic.__path__, "immune_correlates."):
        if mod.name.startswith(("immune_correlates.plots", "immune_correlates.report")) or "make_" in mod.name:
            continue
        module = importlib.import_module(mod.name)
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, ResultDisplay) and obj.__module__ == mod.name:
                names.add(obj.__name__)
    return names - {"ResultDisplay", "TabledTestDisplay", "RegressionResult", TabledTestDisplay.__name__}


def test_every_result_type_of_the_package_is_in_the_walk():
    plain = {"Cohort", "FeatureSet", "TrialDesign", "SimulatedTrial", "TrialBatch", "compare_groups"}
    missing = _result_types() - set(CASES)
    assert not missing, f"add {sorted(missing)} to CASES"
    assert plain <= set(CASES)


def _imputed(frame):
    return ic.impute(
        frame, m=3, columns=["cr", "age", "nk_per_ul", "nk_adcc_lu20", "pfs_months", "pfs_event"], seed=1, n_iter=3
    )


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.slow  # more than two seconds: full suite only
def test_result_round_trips_through_pickle(name, cohort, frame):
    obj = CASES[name](cohort, frame)
    back = pickle.loads(pickle.dumps(obj))
    assert type(back) is type(obj)
    if isinstance(obj, pd.DataFrame):
        pd.testing.assert_frame_equal(back, obj)
        return
    assert repr(back) == repr(obj)
    if hasattr(obj, "summary"):
        pd.testing.assert_frame_equal(back.summary(), obj.summary())


def test_feature_set_keeps_its_read_only_panel_options_after_a_round_trip(cohort):
    fs = ic.build_features(cohort)
    back = pickle.loads(pickle.dumps(fs))
    pd.testing.assert_frame_equal(back.values, fs.values)
    spec = next(s for s in back.panel.features if s.options)
    assert spec == next(s for s in fs.panel.features if s.name == spec.name)
    with pytest.raises(TypeError):
        spec.options["x"] = 1  # still a read-only mapping


def _km_on_worker(data):
    import immune_correlates as ic

    return ic.kaplan_meier(data, "pfs_months", "pfs_event", "cr")


def _median_table(result):
    return result.median()


@pytest.mark.slow  # more than two seconds: full suite only
def test_results_travel_to_and_from_a_dask_worker_process(frame):
    distributed = pytest.importorskip("distributed")
    local = ic.kaplan_meier(frame, "pfs_months", "pfs_event", "cr")
    with (
        distributed.LocalCluster(
            processes=True, n_workers=1, threads_per_worker=1, dashboard_address=":0", worker_dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        worker_pids = set(client.run(lambda: __import__("os").getpid()).values())
        assert __import__("os").getpid() not in worker_pids  # a separate process: results really pickle
        remote = client.submit(_km_on_worker, frame, pure=False).result()  # result computed there, sent back
        medians = client.submit(_median_table, local, pure=False).result()  # result sent there
    pd.testing.assert_frame_equal(remote.table, local.table)
    pd.testing.assert_frame_equal(medians, local.median())
    assert np.isfinite(remote.median()["median"]).any()
