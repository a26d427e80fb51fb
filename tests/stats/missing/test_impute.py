"""ic.impute: what it promises a user (input unchanged, completed frames, seeds, refusals) and the
mechanics of its methods against their definitions (mice cannot be matched draw for draw: the
statistical behaviour is checked in test_mi_simulation.py)."""

import pickle

import joblib
import numpy as np
import pandas as pd
import pytest

import immune_correlates as ic
from immune_correlates.errors import InputError, ParameterError
from immune_correlates.stats.missing.impute import nelson_aalen_at

COLUMNS = [
    "cr",
    "age",
    "sex",
    "response_group",
    "nk_per_ul",
    "nk_adcc_lu20",
    "t_synapse_index",
    "pfs_months",
    "pfs_event",
]


@pytest.fixture(scope="module")
def frame(ofa_len):
    f = ic.analysis_frame(ofa_len)
    f = f.copy()
    f.loc[f.index[:5], "sex"] = None
    f.loc[f.index[3:9], "response_group"] = None
    f["flag"] = pd.array([True, False] * 17, dtype="boolean")
    f.loc[f.index[20:23], "flag"] = pd.NA
    return f


@pytest.fixture(scope="module")
def imp(frame):
    return ic.impute(frame, m=4, columns=[*COLUMNS, "flag"], seed=11, n_iter=5)


def test_input_is_never_changed(frame):
    before = frame.copy(deep=True)
    ic.impute(frame, m=2, columns=COLUMNS, seed=1, n_iter=2)
    pd.testing.assert_frame_equal(frame, before)


def test_completed_frames_keep_index_columns_dtypes_and_observed_values(frame, imp):
    frames = list(imp)
    assert len(frames) == len(imp) == imp.m == 4
    for i, f in enumerate(frames):
        pd.testing.assert_frame_equal(f, imp.completed(i))
        assert f.index.equals(frame.index) and f.columns.equals(frame.columns)
        assert (f.dtypes == frame.dtypes).all()
        for col in imp.columns:
            assert not f[col].isna().any()
        observed = frame.notna()
        pd.testing.assert_frame_equal(f.where(observed), frame.where(observed))
    # columns outside the imputation model are carried through, missing values and all
    assert frames[0]["response_months"].isna().sum() == frame["response_months"].isna().sum()


def test_methods_per_column_and_values_that_occur(frame, imp):
    summary = imp.summary().set_index("column")
    assert summary.loc["nk_adcc_lu20", "method"] == "pmm"
    assert summary.loc["sex", "method"] == "logreg" and summary.loc["flag", "method"] == "logreg"
    assert summary.loc["response_group", "method"] == "polyreg"
    assert summary.loc["nk_adcc_lu20", "n_missing"] == frame["nk_adcc_lu20"].isna().sum()
    # predictive mean matching donates observed values: positive counts stay observed counts
    observed = set(frame["nk_adcc_lu20"].dropna())
    assert set(imp.imputed("nk_adcc_lu20").to_numpy().ravel()) <= observed
    assert set(imp.imputed("sex").to_numpy().ravel()) <= {"F", "M"}
    assert set(imp.imputed("response_group").to_numpy().ravel()) <= {"NR", "PR", "CR"}
    assert imp.completed(0)["response_group"].cat.categories.tolist() == ["NR", "PR", "CR"]
    assert imp.imputed("flag").index.tolist() == frame.index[20:23].tolist()


def test_the_survival_outcome_enters_as_event_and_nelson_aalen(imp):
    assert imp.survival == (("pfs_months", "pfs_event"),)
    assert "pfs_months" in imp.columns["nk_adcc_lu20"].predictors
    assert "Nelson-Aalen" in imp.describe()


def test_nelson_aalen_with_ties_and_censoring():
    t = np.array([2.0, 1.0, 2.0, 3.0, 3.0, 5.0])
    d = np.array([1, 1, 0, 1, 1, 0])
    h1 = 1 / 6
    h2 = h1 + 1 / 5
    h3 = h2 + 2 / 3
    np.testing.assert_allclose(nelson_aalen_at(t, d), [h2, h1, h2, h3, h3, h3])


def test_traces_have_a_mean_and_sd_per_iteration_chain_and_column(imp):
    tr = imp.traces
    assert list(tr.columns) == ["column", "chain", "iteration", "mean", "sd"]
    assert len(tr) == len(imp.columns) * imp.m * imp.n_iter
    assert tr["iteration"].max() == imp.n_iter and tr["chain"].nunique() == imp.m


CHAIN_COLUMNS = ["cr", "age", "nk_adcc_lu20", "t_synapse_index", "pfs_months", "pfs_event"]


def test_same_seed_same_bytes_whatever_n_jobs_and_seed_form(frame):
    cols = CHAIN_COLUMNS
    a = ic.impute(frame, m=3, columns=cols, seed=5, n_iter=3)
    with joblib.parallel_config(backend="threading"):
        b = ic.impute(frame, m=3, columns=cols, seed=np.random.SeedSequence(5), n_iter=3, n_jobs=2)
    c = ic.impute(frame, m=3, columns=cols, seed=6, n_iter=3)
    for i in range(3):
        pd.testing.assert_frame_equal(a.completed(i), b.completed(i))
    assert not a.imputed("t_synapse_index").equals(c.imputed("t_synapse_index"))
    # imputation i is drawn from child i of the seed: the first 3 of m = 5 are the m = 3 ones
    d = ic.impute(frame, m=5, columns=cols, seed=5, n_iter=3)
    pd.testing.assert_frame_equal(d.imputed("t_synapse_index").iloc[:, :3], a.imputed("t_synapse_index"))
    assert a.seed == 5


@pytest.mark.slow
def test_same_bytes_in_worker_processes(frame):
    a = ic.impute(frame, m=3, columns=CHAIN_COLUMNS, seed=5, n_iter=3)
    b = ic.impute(frame, m=3, columns=CHAIN_COLUMNS, seed=5, n_iter=3, n_jobs=2)  # loky processes
    for i in range(3):
        pd.testing.assert_frame_equal(a.completed(i), b.completed(i))


def test_an_entirely_missing_column_is_refused_by_name(frame):
    f = frame.assign(assay_x=np.nan)
    with pytest.raises(InputError, match="every value of 'assay_x' is missing") as err:
        ic.impute(f, columns=["cr", "assay_x"])
    assert err.value.column == "assay_x"


def test_refusals_name_column_and_patients(frame):
    with pytest.raises(InputError, match="single observed value"):
        ic.impute(frame.assign(k=[1.0] + [np.nan] * 33), columns=["cr", "k"])
    bad = frame.copy()
    bad.loc[bad.index[2], "pfs_months"] = np.nan
    with pytest.raises(InputError, match="OL003"):
        ic.impute(bad, columns=["cr", "pfs_months", "pfs_event", "nk_adcc_lu20"], survival={"pfs_months": "pfs_event"})
    with pytest.raises(InputError, match="not in the data"):
        ic.impute(frame, columns=["cr", "cd99"])


@pytest.mark.parametrize(
    "kwargs,param",
    [({"m": 1}, "m="), ({"n_iter": 0}, "n_iter="), ({"seed": -1}, "seed="), ({"donors": 0}, "donors=")],
)
def test_bad_options_raise_parameter_error(frame, kwargs, param):
    with pytest.raises(ParameterError, match=param):
        ic.impute(frame, columns=["cr", "nk_adcc_lu20"], **kwargs)


def test_a_method_that_does_not_fit_the_column_is_refused(frame):
    with pytest.raises(ParameterError, match="methods"):
        ic.impute(frame, columns=["cr", "nk_adcc_lu20"], methods={"nk_adcc_lu20": "logreg"})


def test_completed_index_is_zero_based_and_checked(imp):
    with pytest.raises(ParameterError, match="0-based"):
        imp.completed(4)
    with pytest.raises(ParameterError, match="imputed columns"):
        imp.imputed("age")


def test_predictors_can_be_restricted_and_collinear_ones_are_set_aside(frame):
    f = frame.assign(nk_copy=frame["nk_per_ul"] * 2.0)
    imp = ic.impute(
        f,
        m=2,
        columns=["cr", "nk_per_ul", "nk_copy", "nk_adcc_lu20"],
        seed=1,
        n_iter=2,
        predictors={"nk_adcc_lu20": ["cr", "nk_per_ul", "nk_copy"]},
    )
    assert imp.columns["nk_adcc_lu20"].predictors == ("cr", "nk_per_ul")
    assert any("nk_copy (|r| > 0.99 with nk_per_ul)" in n for n in imp.notes)


def test_imputed_data_pickles_and_displays(imp):
    back = pickle.loads(pickle.dumps(imp))
    pd.testing.assert_frame_equal(back.completed(2), imp.completed(2))
    assert "m = 4" in repr(imp) and "<table" in imp._repr_html_()
    assert imp.long()["imputation"].nunique() == 5


def test_fits_on_imputed_data_pool_and_warn_once(imp):
    fit = ic.fit_logistic(imp, "cr", ["nk_adcc_lu20", "age"], method="firth")
    assert fit.m == 4 and fit.method == "firth" and fit.ratio_name == "odds_ratio"
    by_hand = ic.pool([ic.fit_logistic(d, "cr", ["nk_adcc_lu20", "age"], method="firth", ci="wald") for d in imp])
    pd.testing.assert_frame_equal(fit.summary(), by_hand.summary())
    cox = ic.fit_cox(imp, "pfs_months", "pfs_event", ["nk_adcc_lu20"], method="firth", ties="breslow")
    assert cox.dfcom == max(cox.n_events - 1, 1) and cox.ratio_name == "hazard_ratio"
    fg = ic.fit_fine_gray(imp, "pfs_months", "pfs_event", ["nk_adcc_lu20"])
    assert fg.dfcom == fg.nobs - 1
    # a column the imputation did not cover: rows dropped in every completed data set, warned once
    with pytest.warns(ic.MissingDataWarning) as caught:
        part = ic.fit_logistic(imp, "cr", ["nk_adcc_lu20", "nk_cytotox_lu20"])
    assert len([w for w in caught if issubclass(w.category, ic.MissingDataWarning)]) == 1
    assert len(part.excluded) == 4


def test_screen_on_imputed_data_pools_each_feature_as_the_single_fit(imp):
    tab = ic.screen(imp, ["nk_adcc_lu20", "t_synapse_index"], outcome="cr", covariates=["age"], model="firth")
    single = ic.fit_logistic(imp, "cr", ["t_synapse_index", "age"], method="firth").summary().set_index("term")
    row = tab.set_index("feature").loc["t_synapse_index"]
    for col in ("estimate", "std_error", "df", "p_value", "ci_lower", "ci_upper", "fmi", "riv"):
        assert row[col] == pytest.approx(single.loc["t_synapse_index", col], rel=1e-6)
    assert (tab["test"] == "rubin").all() and (tab["ci_method"] == "rubin").all()
    assert (tab["q_value"] >= tab["p_value"]).all()
    with pytest.raises(ParameterError, match="n_boot"):
        ic.screen(imp, ["nk_adcc_lu20"], outcome="cr", n_boot=10)
