"""Formula safety, dummy-coding conventions, per-column checks, pickling and screen(formula=)."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

from immune_correlates.errors import (
    FormulaError,
    InputError,
    ModelError,
    SeparationWarning,
)
from immune_correlates.stats.regression.cox import fit_cox
from immune_correlates.stats.regression.formula import check_expression
from immune_correlates.stats.regression.logistic import detect_separation, fit_logistic
from immune_correlates.stats.screening.screen import screen


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(14)
    n = 60
    df = pd.DataFrame(
        {
            "patient_id": [f"P{i:03d}" for i in range(n)],
            "nk": rng.gamma(4.0, 50.0, n),
            "age": rng.normal(65, 8, n).round(),
            "sex": rng.choice(["F", "M"], n),
            "stage": rng.choice(["X-linked", "autosomal", "b"], n),
            "del17p": rng.random(n) < 0.3,
            "months": rng.exponential(20, n).round(2) + 0.1,
        }
    )
    lin = -1 + 0.004 * df["nk"] - 0.4 * (df["sex"] == "M")
    df["cr"] = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(int)
    df["event"] = (rng.random(n) < 0.7).astype(int)
    return df


@pytest.mark.parametrize(
    "formula",
    [
        "cr ~ __import__('os').system('echo hi')",
        "cr ~ nk + __import__('os')",
        "cr ~ I(nk.__class__)",
        "cr ~ np.random.uniform(nk)",
        "cr ~ np.linalg.inv(nk)",
        "cr ~ open('x')",
        "cr ~ {nk.real}",
        "cr ~ I([c for c in nk])",
        "cr ~ I(nk[0])",
        "cr ~ eval('1')",
        "cr ~ C(sex, **{'a': 1})",
    ],
)
def test_a_formula_that_tries_to_run_code_is_refused(frame, formula):
    with pytest.raises(FormulaError, match="not code|not a column|not an allowed|attribute|syntax") as info:
        fit_logistic(frame, formula=formula)
    assert "fit_logistic" in str(info.value)


def test_check_expression_allows_documented_transforms_only():
    cols = ["x", "g"]
    assert check_expression("np.log2(x)", cols) == {"x"}
    assert check_expression("C(g, Treatment('b'))", cols) == {"g"}
    assert check_expression("bs(x, df=3, degree=3)", cols) == {"x"}
    assert check_expression("I(x / 100 + 1)", cols) == {"x"}
    with pytest.raises(FormulaError, match="'y', which is not a column"):
        check_expression("np.log(y)", cols)
    with pytest.raises(FormulaError, match="np.save"):
        check_expression("np.save(x)", cols)


def test_unknown_column_and_bad_left_sides_are_clear_errors(frame):
    with pytest.raises(FormulaError, match="'nkk', which is not a column"):
        fit_logistic(frame, formula="cr ~ nkk")
    with pytest.raises(FormulaError, match="Surv"):
        fit_cox(frame, formula="months ~ nk")
    with pytest.raises(FormulaError, match="either formula"):
        fit_logistic(frame, "cr", ["nk"], formula="cr ~ nk")
    with pytest.raises(FormulaError, match="'~'"):
        fit_logistic(frame, formula="nk + age")
    with pytest.raises(FormulaError, match="not both"):
        fit_cox(frame.assign(start=0.0), formula="Surv(start, months, event) ~ nk", entry="start")
    with pytest.raises(FormulaError, match="Cox formulas only"):
        fit_logistic(frame, formula="cr ~ nk + strata(sex)")


def test_levels_sort_in_code_point_order_and_categoricals_keep_theirs(frame):
    res = fit_logistic(frame, "cr", ["nk", "stage"])
    # 'X-linked' < 'autosomal' < 'b' in code-point order (R's C locale): X-linked is the reference
    assert list(res.params.index[2:]) == ["stage[T.autosomal]", "stage[T.b]"]
    cat = frame.assign(stage=pd.Categorical(frame["stage"], categories=["b", "autosomal", "X-linked", "unused"]))
    res_cat = fit_logistic(cat, "cr", ["nk", "stage"])
    assert list(res_cat.params.index[2:]) == ["stage[T.autosomal]", "stage[T.X-linked]"]  # unused level dropped
    assert res_cat.summary().set_index("term").loc["stage[T.X-linked]", "reference"] == "b"
    assert res.llf == pytest.approx(res_cat.llf, rel=1e-12)  # same model, other reference


def test_booleans_are_zero_one_columns_named_as_the_column(frame):
    res = fit_logistic(frame, formula="cr ~ nk + del17p")
    num = fit_logistic(frame.assign(del17p=frame["del17p"].astype(float)), "cr", ["nk", "del17p"])
    assert list(res.params.index) == ["Intercept", "nk", "del17p"]
    pd.testing.assert_series_equal(res.params, num.params, rtol=1e-12)
    cox = fit_cox(frame, "months", "event", ["nk", "del17p"])
    assert list(cox.params.index) == ["nk", "del17p"]


def test_a_transform_giving_non_finite_values_names_patient_and_value(frame):
    frame.loc[3, "nk"] = 0.0
    with pytest.raises(InputError, match=r"np.log2\(nk\)[\s\S]*P003[\s\S]*-inf"):
        fit_logistic(frame, formula="cr ~ np.log2(nk)")


def test_missing_factor_values_are_listed_with_the_column_name(frame):
    frame.loc[[4, 9], "sex"] = None
    with pytest.warns(Warning, match="P004"):
        res = fit_logistic(frame, "cr", ["nk", "sex"])
    assert res.excluded.to_dict("records") == [
        {"patient_id": "P004", "reason": "missing sex"},
        {"patient_id": "P009", "reason": "missing sex"},
    ]
    assert res.nobs == 58


def test_separated_factor_level_is_named_as_such(frame):
    frame.loc[frame["stage"] == "b", "cr"] = 1
    with pytest.warns(SeparationWarning, match=r"level 'b' of stage \(reference 'X-linked'\)"):
        fit_logistic(frame, "cr", ["nk", "stage"])
    sep = detect_separation(frame, formula="cr ~ nk + C(stage)")
    assert "C(stage)[T.b]" in sep.infinite_terms and "nk" not in sep.infinite_terms
    with warnings.catch_warnings():
        warnings.simplefilter("error", SeparationWarning)
        firth = fit_logistic(frame, "cr", ["nk", "stage"], method="firth")
    assert np.isfinite(firth.params).all()
    assert any("level 'b' of stage" in note for note in firth.notes)


def test_a_factor_left_with_one_level_is_a_model_error_naming_it(frame):
    # level 'b' exists only for a patient left out for missing data: R drops the empty level and
    # refuses a one-level factor; so do we (instead of silently leaving the term out)
    frame["arm"] = np.where(np.arange(len(frame)) < 59, "a", "b")
    frame.loc[59, "nk"] = np.nan
    for kwargs in ({"formula": "cr ~ nk + C(arm)"}, {"outcome": "cr", "covariates": ["nk", "arm"]}):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(ModelError, match=r"'(C\(arm\)|arm)' has no column: its factor takes a single level"):
                fit_logistic(frame, **kwargs)


def test_cox_monotone_likelihood_names_the_level(frame):
    frame["grp"] = np.where(np.arange(len(frame)) % 3 == 0, "high", "low")
    frame.loc[frame["grp"] == "high", "event"] = 0  # no events in one level
    with pytest.warns(Warning, match=r"level 'low' of grp \(reference 'high'\)"):
        fit_cox(frame, "months", "event", ["nk", "grp"])


def test_logistic_result_pickles_and_recomputes_after_loading(frame):
    res = fit_logistic(frame, formula="cr ~ nk + C(sex) + np.log2(age)", method="firth", ci="profile")
    back = pickle.loads(pickle.dumps(res))
    pd.testing.assert_series_equal(back.params, res.params)
    pd.testing.assert_frame_equal(back.conf_int(0.1), res.conf_int(0.1))
    pd.testing.assert_frame_equal(back.anova(), res.anova())
    pd.testing.assert_frame_equal(back.summary(), res.summary())
    pd.testing.assert_series_equal(back.predict(frame.head(5)), res.fitted.head(5), check_names=False)
    assert back.formula == res.formula and back._repr_html_() == res._repr_html_()


def test_cox_result_pickles_and_recomputes_after_loading(frame):
    res = fit_cox(frame, formula="Surv(months, event) ~ nk + C(sex) + strata(del17p)", ci="profile")
    back = pickle.loads(pickle.dumps(res))
    pd.testing.assert_series_equal(back.pvalues, res.pvalues)
    pd.testing.assert_frame_equal(back.conf_int(0.2), res.conf_int(0.2))
    pd.testing.assert_frame_equal(back.anova(), res.anova())
    assert back.concordance.concordance == res.concordance.concordance
    assert back.ph_test().table.equals(res.ph_test().table)


def test_firth_anova_fixes_the_term_at_zero_in_the_full_penalized_model(frame):
    # a 1-df term: the penalized LR test of anova() is the Firth p-value of that coefficient
    res = fit_logistic(frame, formula="cr ~ nk + C(sex)", method="firth", ci="profile")
    np.testing.assert_allclose(res.anova()["p_value"], res.pvalues[["nk", "C(sex)[T.M]"]], rtol=1e-10)
    cox = fit_cox(frame, formula="Surv(months, event) ~ nk + C(sex)", method="firth")
    np.testing.assert_allclose(cox.anova()["p_value"], cox.pvalues, rtol=1e-10)


def test_screen_formula_equals_hand_made_adjustment_columns(frame):
    features = ["nk", "age"]
    by_formula = screen(frame, features, formula="cr ~ C(sex) + del17p", model="firth")
    manual = frame.assign(male=(frame["sex"] == "M").astype(float), d17=frame["del17p"].astype(float))
    by_columns = screen(manual, features, outcome="cr", covariates=["male", "d17"], model="firth")
    cols = ["feature", "estimate", "std_error", "p_value", "n", "n_events"]
    pd.testing.assert_frame_equal(by_formula[cols], by_columns[cols])
    cox = screen(frame, ["nk"], formula="Surv(months, event) ~ C(sex)", model="cox")
    direct = fit_cox(frame, "months", "event", ["nk", "sex"])
    assert cox["estimate"].iloc[0] == pytest.approx(direct.params["nk"], rel=1e-8)
    with pytest.raises(FormulaError, match="not both"):
        screen(frame, features, formula="cr ~ age", outcome="cr")


def test_forest_plot_names_the_reference_level_of_each_factor_row(frame):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from immune_correlates.plots import forest

    res = fit_logistic(frame, formula="cr ~ nk + C(stage, Treatment('b'))", method="firth")
    fig, ax = plt.subplots()
    forest(res, ax=ax)
    fig.canvas.draw()
    texts = [t.get_text() for t in ax.get_yticklabels()] + [t.get_text() for t in ax.texts]
    shown = " | ".join(texts)
    assert "C(stage, Treatment('b'))[T.X-linked] (vs b)" in shown
    assert "C(stage, Treatment('b'))[T.autosomal] (vs b)" in shown
    assert "nk (vs" not in shown
    plt.close(fig)


def test_screen_dummy_codes_text_covariates_as_the_models_do(frame):
    frame.loc[[2, 7], "stage"] = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = screen(frame, ["nk"], outcome="cr", covariates=["age", "stage"], model="logistic")
        direct = fit_logistic(frame, "cr", ["nk", "age", "stage"])
    assert table["n"].iloc[0] == direct.nobs == len(frame) - 2
    assert table["estimate"].iloc[0] == pytest.approx(direct.params["nk"], rel=1e-8)
    assert table["std_error"].iloc[0] == pytest.approx(direct.bse["nk"], rel=1e-6)
    assert {"P002", "P007"} <= set(str(table["excluded"].iloc[0]).replace(",", " ").split())


def test_surv_with_entry_is_the_counting_process_fit(frame):
    """``Surv(entry, duration, event)`` is ``fit_cox(..., entry=)``: rows entering late leave earlier risk sets."""
    late = np.arange(len(frame)) % 3 == 0
    data = frame.assign(start=np.where(late, frame["months"] / 2, 0.0))
    by_formula = fit_cox(data, formula="Surv(start, months, event) ~ nk")
    by_argument = fit_cox(data, "months", "event", ["nk"], entry="start")
    np.testing.assert_allclose(by_formula.params.to_numpy(), by_argument.params.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(by_formula.bse.to_numpy(), by_argument.bse.to_numpy(), rtol=1e-12)
    plain = fit_cox(data, "months", "event", ["nk"])
    assert not np.allclose(by_formula.params.to_numpy(), plain.params.to_numpy())
