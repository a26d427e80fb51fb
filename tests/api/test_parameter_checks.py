"""Declared argument checks: bad arguments raise one ParameterError naming parameter, value and what is allowed."""

import numpy as np
import pandas as pd
import pytest

import immune_correlates as ic
from immune_correlates._params import Instance, Interval, Options, check_params
from immune_correlates.errors import ImmuneCorrelatesError, ParameterError


@pytest.fixture(scope="module")
def df():
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "t": rng.exponential(10, 40).round(2),
            "e": rng.integers(0, 2, 40),
            "g": np.repeat(["a", "b"], 20),
            "x": rng.normal(size=40),
            "y": rng.integers(0, 2, 40),
        }
    )


def test_parameter_error_is_a_value_error_and_a_package_error():
    assert issubclass(ParameterError, ImmuneCorrelatesError) and issubclass(ParameterError, ValueError)
    assert ic.ParameterError is ParameterError


def test_check_params_names_function_parameter_value_and_allowed_values():
    @check_params(
        method=Options("ml", "firth"),
        alpha=Interval(0, 1, closed="neither"),
        n=Interval(1, None, integer=True),
        flag=Instance(bool),
    )
    def f(data, *, method="ml", alpha=0.05, n=1, flag=False):
        return method, alpha, n, flag

    assert f(None, method="firth", alpha=np.float64(0.1), n=np.int64(3)) == ("firth", 0.1, 3, False)
    assert f.__parameter_constraints__["method"][0].values == ("ml", "firth")
    with pytest.raises(
        ParameterError, match=r"^f: method='bayes' is not allowed; method must be one of 'ml', 'firth'\.$"
    ):
        f(None, method="bayes")
    with pytest.raises(ParameterError, match=r"alpha=1 is not allowed; alpha must be a number in \(0, 1\)"):
        f(None, alpha=1)
    with pytest.raises(ParameterError, match="alpha=nan"):
        f(None, alpha=float("nan"))
    with pytest.raises(ParameterError, match="n=2.5 is not allowed; n must be an integer >= 1"):
        f(None, n=2.5)
    with pytest.raises(ParameterError, match="n=True"):  # a bool is not a number here
        f(None, n=True)
    with pytest.raises(ParameterError, match="flag=1 is not allowed"):
        f(None, flag=1)
    with pytest.raises(TypeError, match="no parameter"):
        check_params(nope=Options(1))(f.__wrapped__)


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda d: ic.kaplan_meier(d, "t", "e", conf_type="logit"),
            r"kaplan_meier: conf_type='logit' is not allowed; conf_type must be one of 'log', 'log-log', 'plain'",
        ),
        (lambda d: ic.kaplan_meier(d, "t", "e", alpha=5), r"kaplan_meier: alpha=5 is not allowed"),
        (lambda d: ic.kaplan_meier(d, "t", "e", missing="ignore"), r"missing='ignore' is not allowed"),
        (lambda d: ic.logrank_test(d, "t", "e", "g", rho=-1), r"logrank_test: rho=-1 is not allowed"),
        (lambda d: ic.compare_groups(d, "x", "g", method="t-test"), r"compare_groups: method='t-test'"),
        (lambda d: ic.compare_groups(d, "x", "g", adjust="sidak"), r"compare_groups: adjust='sidak'"),
        (lambda d: ic.optimal_cutpoint(d, "x", "t", "e", pmethod="lausen"), r"optimal_cutpoint: pmethod='lausen'"),
        (lambda d: ic.optimal_cutpoint(d, "x", "t", "e", minprop=0.6), r"optimal_cutpoint: minprop=0.6"),
        (lambda d: ic.stats.roc_curve(d, "y", "x", ci="bootstrap"), r"roc_curve: ci='bootstrap'"),
        (lambda d: ic.concordance_index(d["t"], d["e"], d["x"], alpha=0), r"concordance_index: alpha=0"),
        (lambda d: ic.adjust_pvalues([0.1, 0.2], method="sidak"), r"adjust_pvalues: method='sidak'"),
        (lambda d: ic.binomial_ci(3, 10, alpha=1.5), r"binomial_ci: alpha=1.5"),
        (lambda d: ic.stats.wilcoxon_rank_sum([1, 2], [3, 4], exact="yes"), r"wilcoxon_rank_sum: exact='yes'"),
        (lambda d: ic.ph_test(object()), r"ph_test: result=<object .*> is not allowed; result must be a CoxResult"),
        (lambda d: ic.power(analysis="anova", n_sim=5), r"power: analysis='anova'"),
        (lambda d: ic.power(n_sim=-1), r"power: n_sim=-1 is not allowed; n_sim must be an integer >= 1"),
        (lambda d: ic.features.dichotomise(d["x"], "quartiles"), r"dichotomise: method='quartiles'"),
        (lambda d: ic.features.log2_transform(d["x"], offset=-1), r"log2_transform: offset=-1"),
        (lambda d: ic.features.lytic_units([1, 2], [10, 20], percent=0), r"lytic_units: percent=0"),
        (lambda d: ic.fit_mixed(d, "x ~ 1 + (1 | g)", df="wald"), r"fit_mixed: df='wald' is not allowed"),
        (lambda d: ic.fit_mixed(d, "x ~ 1 + (1 | g)", reml=1), r"fit_mixed: reml=1 is not allowed"),
    ],
)
def test_public_functions_raise_parameter_error_for_bad_options(df, call, message):
    with pytest.raises(ParameterError, match=message):
        call(df)


def test_kruskal_wallis_returns_a_result_object_that_still_unpacks():
    res = ic.stats.kruskal_wallis([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    h, dof, p = res
    assert (h, dof, p) == (res.statistic, res.df, res.pvalue)
    assert res.statistic == pytest.approx(7.2)
    table = res.summary()
    assert list(table.columns) == ["statistic", "df", "p_value"] and table["df"].iloc[0] == 2
    assert "Kruskal" in res._repr_html_()


@pytest.mark.parametrize(
    "result",
    [
        ic.stats.wilcoxon_rank_sum([1.0, 2.5, 3.0], [2.0, 5.0, 6.0]),
        ic.stats.jonckheere_terpstra([[1, 2], [3, 4], [5, 7]]),
        ic.stats.fisher_exact([[3, 4], [5, 1]]),
        ic.stats.kruskal_wallis([[1, 2], [3, 5]]),
    ],
)
def test_every_test_result_has_a_one_row_summary_with_its_p_value(result):
    table = result.summary()
    assert len(table) == 1 and table.filter(regex="^p_?value$").iloc[0, 0] == result.pvalue
    assert "<table" in result._repr_html_()
