"""Invariances that must hold for any valid cohort (property-based, hypothesis).

Set HYPOTHESIS_PROFILE=fuzz for a long run (thousands of examples); CI uses the default profile.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import immune_correlates as ic
from immune_correlates.datasets import ofa_len_paths

settings.register_profile("ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz", max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

pytestmark = pytest.mark.slow  # property-based fuzzing (HYPOTHESIS_PROFILE=fuzz for the long run)


@pytest.fixture(scope="module")
def frame():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = ic.analysis_frame(ic.datasets.load_ofa_len())
    f["log2_nk"] = np.log2(f["nk_per_ul"])
    return f.dropna(subset=["t_function_score"])


@given(seed=st.integers(0, 2**32 - 1))
def test_row_order_changes_no_result(frame, seed):
    perm = frame.sample(frac=1.0, random_state=np.random.RandomState(seed % 2**32))
    for method in ("ml", "firth"):
        a = ic.fit_logistic(frame, "cr", ["log2_nk", "t_function_score"], method=method)
        b = ic.fit_logistic(perm, "cr", ["log2_nk", "t_function_score"], method=method)
        np.testing.assert_allclose(a.params, b.params, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(a.bse, b.bse, rtol=1e-9)
    a = ic.fit_cox(frame, "pfs_months", "pfs_event", ["log2_nk", "t_function_score"])
    b = ic.fit_cox(perm, "pfs_months", "pfs_event", ["log2_nk", "t_function_score"])
    np.testing.assert_allclose(a.params, b.params, rtol=1e-9, atol=1e-12)
    pd.testing.assert_frame_equal(
        ic.kaplan_meier(frame, "pfs_months", "pfs_event").median(),
        ic.kaplan_meier(perm, "pfs_months", "pfs_event").median(),
    )
    ca = ic.compare_groups(frame, ["nk_per_ul"], "response_group", groups=["CR", "NR"])
    cb = ic.compare_groups(perm, ["nk_per_ul"], "response_group", groups=["CR", "NR"])
    np.testing.assert_allclose(
        ca[["statistic", "p_value", "hodges_lehmann"]], cb[["statistic", "p_value", "hodges_lehmann"]]
    )


@given(scale=st.floats(1e-3, 1e3))
def test_rescaling_a_feature_rescales_its_coefficient(frame, scale):
    scaled = frame.assign(log2_nk=frame["log2_nk"] * scale)
    for method in ("ml", "firth"):
        a = ic.fit_logistic(frame, "cr", ["log2_nk"], method=method)
        b = ic.fit_logistic(scaled, "cr", ["log2_nk"], method=method)
        np.testing.assert_allclose(b.params["log2_nk"] * scale, a.params["log2_nk"], rtol=1e-7)
        np.testing.assert_allclose(b.pvalues["log2_nk"], a.pvalues["log2_nk"], rtol=1e-6)
    a = ic.fit_cox(frame, "pfs_months", "pfs_event", ["log2_nk"], method="firth")
    b = ic.fit_cox(scaled, "pfs_months", "pfs_event", ["log2_nk"], method="firth")
    np.testing.assert_allclose(b.params["log2_nk"] * scale, a.params["log2_nk"], rtol=1e-7)


@settings(max_examples=10)
@given(seed=st.integers(0, 10_000), n=st.integers(12, 60), drop=st.integers(0, 5))
def test_every_patient_is_in_the_frame_or_the_exclusions(seed, n, drop):
    trial = ic.simulate(ic.TrialDesign(n_patients=n), seed=seed)
    tables = dict(trial.tables)
    ids = tables["clinical"]["patient_id"].tolist()
    gone = ids[:drop]
    tables["immunophenotype"] = tables["immunophenotype"][~tables["immunophenotype"]["patient_id"].isin(gone)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cohort = ic.read_cohort(**tables)
        fs = ic.build_features(cohort)
        frame = ic.analysis_frame(cohort, features=fs.values)
    assert list(frame.index) == ids
    assert set(gone) <= set(cohort.exclusions["patient_id"])
    nan_cells = fs.values.isna().stack()
    nan_cells = nan_cells[nan_cells]
    explained = set(zip(fs.missing["patient_id"], fs.missing["feature"]))
    assert set(nan_cells.index) <= explained


_MESS = st.one_of(
    st.text(max_size=8),
    st.sampled_from(
        ["n/a", "ND", "<0.1", "12%", "inf", "-1", "2", "", " ", "2010-02-30", "43921", "yes", "NaN", "1e308", "0x10"]
    ),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)


@given(data=st.data())
def test_read_cohort_never_crashes_on_messy_cells(data):
    raw = {k: pd.read_csv(p, dtype=str, keep_default_na=False) for k, p in ofa_len_paths().items()}
    for _ in range(data.draw(st.integers(1, 4))):
        table = data.draw(st.sampled_from(sorted(raw)))
        frame = raw[table]
        row = data.draw(st.integers(0, len(frame) - 1))
        col = data.draw(st.sampled_from(list(frame.columns)))
        frame.loc[row, col] = data.draw(_MESS)
    try:
        cohort = ic.read_cohort(**raw)
    except ic.InputError as exc:
        for problem in exc.problems or (exc,):  # one error per problem, each naming its table
            assert problem.source.startswith("<") and str(problem).startswith("file '<")
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ic.analysis_frame(cohort)
        except ic.ImmuneCorrelatesError:
            pass


_ODD = st.sampled_from(["", "0", "1e6", "0.0001", "100", "-1"])


@settings(
    max_examples=int(os.environ.get("IC_FUZZ_ANALYZE", "4")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
def test_analyze_never_crashes_on_odd_but_valid_data(data, tmp_path_factory):
    """Valid files with odd values (blanks, extremes, lost events) give a report or our own error."""
    from immune_correlates.cli import main

    raw = {k: pd.read_csv(p, dtype=str, keep_default_na=False) for k, p in ofa_len_paths().items()}
    assays = raw["function_assays"]
    for _ in range(data.draw(st.integers(1, 6))):
        row = data.draw(st.integers(0, len(assays) - 1))
        value = data.draw(_ODD)
        unit = assays.loc[row, "unit"]
        if value in ("1e6", "-1") and unit != "index":
            value = "100" if value == "1e6" else "0"
        assays.loc[row, "value"] = value if value else "0"
    clinical = raw["clinical"]
    if data.draw(st.booleans()):  # most patients lose their progression: few events left
        keep = data.draw(st.integers(1, 5))
        alive = clinical["death_date"] == ""
        clinical.loc[alive & (clinical.index >= keep), "progression_date"] = ""
    if data.draw(st.booleans()):
        clinical.loc[data.draw(st.integers(0, len(clinical) - 1)), "alc"] = ""
    out = tmp_path_factory.mktemp("fuzz")
    for name, frame in raw.items():
        frame.to_csv(out / f"{name}.csv", index=False)
    (out / "analysis.toml").write_text("[analysis]\nn_perm = 199\n")  # the odd data is the test, not the resampling
    args = ["analyze", "--out", str(out / "report"), "--config", str(out / "analysis.toml")]
    for name in raw:
        args += [f"--{name.replace('_', '-')}", str(out / f"{name}.csv")]
    code = main(args)
    assert code in (0, 2)
    if code == 0:
        assert (out / "report" / "report.html").exists()
