"""screen(model="mixed"): every feature the outcome of one linear mixed model, equal to fit_mixed feature by feature."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import immune_correlates as ic
from immune_correlates.multiplicity import adjust_pvalues

FORMULA = "~ day * responder + (1 | patient_id)"


@pytest.fixture(scope="module")
def long():
    """34 patients x 5 visits, 12 features; some visits not assessed for some features."""
    rng = np.random.default_rng(24)
    days = np.array([0.0, 15.0, 60.0, 140.0, 280.0])
    n = 34
    frame = pd.DataFrame(
        {
            "patient_id": np.repeat([f"P{i:02d}" for i in range(n)], 5),
            "day": np.tile(days, n),
            "responder": np.repeat((rng.random(n) < 0.7).astype(float), 5),
            "arm": np.repeat(rng.choice(["a", "b", "c"], n), 5),
        }
    )
    for j in range(12):
        patient = np.repeat(rng.normal(0, 1 + j % 3, n), 5)
        slope = np.repeat(rng.normal(0, 0.004, n), 5)
        effect = 0.004 * (j % 4) * frame["day"] * frame["responder"]
        frame[f"f{j:02d}"] = 10 + effect + patient + slope * frame["day"] + rng.normal(0, 1, 5 * n)
    frame.loc[[3, 40, 41], "f01"] = np.nan  # three visits not assessed
    frame.loc[[3, 40, 41], "f02"] = np.nan  # the same rows: fitted together with f01
    frame.loc[[120], "f03"] = np.nan
    return frame


FEATURES = [f"f{j:02d}" for j in range(12)]


def _screen(long, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ic.MissingDataWarning)
        warnings.simplefilter("ignore", ic.SingularFitWarning)
        return ic.screen(long, FEATURES, model="mixed", **kw)


def _single(long, feature, formula, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ic.MissingDataWarning)
        warnings.simplefilter("ignore", ic.SingularFitWarning)
        return ic.fit_mixed(long, f"{feature} {formula}", **kw)


@pytest.mark.parametrize(
    ("formula", "term"),
    [
        (FORMULA, "day:responder"),
        ("~ day * responder + (day | patient_id)", "day:responder"),
        ("~ day * arm + (1 | patient_id)", "day:arm[T.b]"),
    ],
)
def test_each_row_equals_fit_mixed_of_that_feature(long, formula, term):
    tab = _screen(long, formula=formula, term=term)
    assert list(tab["feature"]) == FEATURES
    for _, row in tab.iterrows():
        fit = _single(long, row["feature"], formula)
        assert row["estimate"] == pytest.approx(fit.params[term], rel=1e-8)
        assert row["std_error"] == pytest.approx(fit.bse[term], rel=1e-8)
        assert row["df"] == pytest.approx(fit.df[term], rel=1e-8)
        assert row["p_value"] == pytest.approx(fit.pvalues[term], rel=1e-7)
        ci = fit.conf_int().loc[term]
        assert (row["ci_lower"], row["ci_upper"]) == pytest.approx((ci["lower"], ci["upper"]), rel=1e-8)
        assert row["n"] == fit.nobs
        assert row["n_groups"] == fit.n_groups["patient_id"]
        assert row["singular"] == fit.singular
        assert row["converged"]


def test_rows_report_q_values_and_the_rows_left_out(long):
    with pytest.warns(ic.MissingDataWarning, match="3 feature"):
        tab = ic.screen(long, FEATURES, model="mixed", formula=FORMULA, term="day:responder")
    expected = ["feature", "term", "estimate", "std_error", "df", "statistic", "ci_lower", "ci_upper", "p_value"]
    assert list(tab.columns[: len(expected)]) == expected
    assert {"q_value", "n", "n_groups", "n_excluded", "excluded", "converged", "singular", "note"} <= set(tab.columns)
    np.testing.assert_allclose(tab["q_value"], adjust_pvalues(tab["p_value"].to_numpy(), method="fdr_bh"))
    row = tab.set_index("feature").loc["f01"]
    assert row["n"] == 167 and row["n_excluded"] == 3
    assert row["excluded"] == "P00, P08, P08"
    assert (tab["term"] == "day:responder").all()


def test_a_feature_without_variation_is_reported_not_fitted(long):
    flat = long.assign(f00=3.0)
    tab = _screen(flat, formula=FORMULA, term="day:responder")
    row = tab.iloc[0]
    assert np.isnan(row["estimate"]) and "fitted exactly" in row["note"]
    assert tab["estimate"].iloc[1:].notna().all()


def test_mixed_screen_options_are_checked(long):
    base = {"model": "mixed", "formula": FORMULA, "term": "day:responder"}
    with pytest.raises(ic.ParameterError, match="outcome"):
        ic.screen(long, FEATURES, outcome="responder", **base)
    with pytest.raises(ic.ParameterError, match="term="):
        ic.screen(long, FEATURES, model="mixed", formula=FORMULA)
    with pytest.raises(ic.InputError, match="without a left side"):
        ic.screen(long, FEATURES, model="mixed", formula="f00 " + FORMULA, term="day:responder")
    with pytest.raises(ic.InputError, match=r"is not a fixed-effect column.*'day:responder'"):
        ic.screen(long, FEATURES, model="mixed", formula=FORMULA, term="day:resp")
    with pytest.raises(ic.InputError, match="both screened features and columns"):
        ic.screen(long, ["day", "f00"], **base)
    with pytest.raises(ic.ParameterError, match="alpha"):
        ic.screen(long, FEATURES, alpha=2, **base)


def test_bad_feature_values_are_named(long):
    bad = long.astype({"f04": object})
    bad.loc[12, "f04"] = "<LLOQ"
    with pytest.raises(ic.ImmuneCorrelatesError, match="f04") as err:
        ic.screen(bad, FEATURES, model="mixed", formula=FORMULA, term="day:responder")
    assert "P02" in str(err.value) and "<LLOQ" in str(err.value)
    with pytest.raises(ic.MissingDataError, match="P00"):
        ic.screen(long, FEATURES, model="mixed", formula=FORMULA, term="day:responder", missing="raise")
