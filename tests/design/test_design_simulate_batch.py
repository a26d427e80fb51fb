"""The fast trial simulator: reproducible, and it recovers its own parameters at large n."""

from __future__ import annotations

import numpy as np
import pytest

from immune_correlates.data.design import DRIVERS, OFA_LEN_DESIGN, TrialDesign
from immune_correlates.design import simulate_trials
from immune_correlates.design._fits import cox_trials, logistic_trials
from immune_correlates.design.calibrate import marginal_response_rates, match_response_rates
from immune_correlates.errors import ConfigError, ParameterError


def test_same_seed_gives_identical_trials_and_another_seed_does_not():
    a = simulate_trials(OFA_LEN_DESIGN, n_sim=300, seed=11)
    b = simulate_trials(OFA_LEN_DESIGN, n_sim=300, seed=11)
    c = simulate_trials(OFA_LEN_DESIGN, n_sim=300, seed=12)
    for name in ("drivers", "features", "group", "time", "event"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.time, c.time)


def test_designs_differing_in_effects_share_random_numbers():
    a = simulate_trials(OFA_LEN_DESIGN, n_sim=50, seed=3)
    b = simulate_trials(OFA_LEN_DESIGN.replace(or_cr={"nk_function": 1.5}), n_sim=50, seed=3)
    np.testing.assert_array_equal(a.drivers, b.drivers)
    assert not np.array_equal(a.group, b.group)


def test_logistic_on_drivers_recovers_or_cr_at_n_5000():
    design = OFA_LEN_DESIGN.replace(n_patients=5000)
    batch = simulate_trials(design, n_sim=3, seed=2024)
    X = np.concatenate([np.ones((3, 5000, 1)), batch.drivers], axis=2)
    truth = design.coefficients("or_cr")
    for firth in (False, True):
        fits = [logistic_trials(X, batch.cr, firth=firth, coef=k) for k in range(1, 5)]
        z = np.array([(f.estimate - t) / f.se for f, t in zip(fits, truth)])
        assert np.all(np.abs(z) < 4), z
        # and the intercept is the CR threshold: logit P(CR | drivers = 0) = logit(p_cr)
        b0 = fits[0].beta[:, 0]
        assert np.all(np.abs(b0 - np.log(design.p_cr / (1 - design.p_cr))) < 0.2)


def test_cox_given_response_group_recovers_hr_pfs_at_n_5000():
    # without deaths before progression the PFS hazard is exactly the Weibull PH model
    design = OFA_LEN_DESIGN.replace(n_patients=5000, death_free_rate_per_month=0.0)
    batch = simulate_trials(design, n_sim=2, seed=7)
    x = np.concatenate([batch.drivers, (batch.group == 1)[..., None], (batch.group == 2)[..., None]], axis=2)
    truth = np.r_[design.coefficients("hr_pfs"), design.hr_response["PR"], design.hr_response["CR"]]
    for k, t in enumerate(truth):
        fit = cox_trials(x, batch.time, batch.event, firth=False, coef=k)
        z = (fit.estimate - t) / fit.se
        assert np.all(np.abs(z) < 4), (k, z)


def test_response_rates_match_the_quadrature_of_the_response_model():
    batch = simulate_trials(OFA_LEN_DESIGN, n_sim=4000, seed=5)
    rates = marginal_response_rates(OFA_LEN_DESIGN)
    m = batch.n_sim * batch.n
    for code, key in ((2, "cr"), (1, "pr"), (0, "nr")):
        share = (batch.group == code).mean()
        assert abs(share - rates[key]) < 4 * np.sqrt(rates[key] * (1 - rates[key]) / m) * 3  # clustered draws


def test_match_response_rates_gives_eight_crs_in_34_on_average():
    design = match_response_rates(OFA_LEN_DESIGN, cr=8 / 34, pr=16 / 34)
    rates = marginal_response_rates(design)
    assert rates["cr"] == pytest.approx(8 / 34, rel=1e-10)
    assert rates["pr"] == pytest.approx(16 / 34, rel=1e-10)
    assert design.p_cr < OFA_LEN_DESIGN.p_cr  # the immune spread raises the cohort rate


def test_measured_features_have_unit_variance_and_the_stated_reliability():
    design = OFA_LEN_DESIGN.replace(
        n_patients=200, measurement_sd={"nk_function": 1.0}, n_null_features=3, null_feature_correlation=0.4
    )
    batch = simulate_trials(design, n_sim=200, seed=9)
    x = batch.feature("nk_function").ravel()
    z = batch.drivers[:, :, DRIVERS.index("nk_function")].ravel()
    assert np.var(x) == pytest.approx(1.0, abs=0.02)
    assert np.corrcoef(x, z)[0, 1] ** 2 == pytest.approx(design.reliability("nk_function"), abs=0.02)
    nulls = batch.features[:, :, 4:].reshape(-1, 3)
    assert np.corrcoef(nulls.T)[0, 1] == pytest.approx(0.4, abs=0.02)
    assert abs(np.corrcoef(nulls[:, 0], batch.cr.ravel())[0, 1]) < 0.02
    assert batch.feature_names == DRIVERS + ("null_1", "null_2", "null_3")


def test_binary_drivers_take_values_minus_one_and_one():
    batch = simulate_trials(OFA_LEN_DESIGN.replace(driver_distribution="binary"), n_sim=20, seed=1)
    assert set(np.unique(batch.drivers)) == {-1.0, 1.0}


def test_new_design_fields_are_validated_and_left_out_of_to_dict_at_defaults():
    assert "measurement_sd" not in OFA_LEN_DESIGN.to_dict()
    assert TrialDesign(n_null_features=2).to_dict()["n_null_features"] == 2
    with pytest.raises(ConfigError, match="measurement_sd has unknown drivers"):
        TrialDesign(measurement_sd={"cd19": 1.0})
    with pytest.raises(ConfigError, match="driver_distribution"):
        TrialDesign(driver_distribution="uniform")
    with pytest.raises(
        ParameterError, match="simulate_trials: n_sim=0 is not allowed"
    ):  # an option, not a design field
        simulate_trials(OFA_LEN_DESIGN, n_sim=0)


def test_trial_frame_holds_the_endpoints_and_features_of_one_trial():
    batch = simulate_trials(OFA_LEN_DESIGN, n_sim=3, seed=1)
    frame = batch.trial(2)
    assert list(frame.columns[:4]) == ["cr", "response_group", "pfs_months", "pfs_event"]
    np.testing.assert_array_equal(frame["pfs_months"].to_numpy(), batch.time[2])
    assert (frame["cr"] == (frame["response_group"] == "CR")).all()


def test_binary_driver_response_rates_match_simulation():
    design = OFA_LEN_DESIGN.replace(driver_distribution="binary")
    rates = marginal_response_rates(design)
    batch = simulate_trials(design, n_sim=3000, seed=8)
    m = batch.n_sim * batch.n
    assert abs(batch.cr.mean() - rates["cr"]) < 4 * np.sqrt(rates["cr"] * (1 - rates["cr"]) / m) * 3
    matched = match_response_rates(design, cr=0.2, pr=0.3)
    assert marginal_response_rates(matched)["cr"] == pytest.approx(0.2, rel=1e-9)


def test_null_design_keeps_the_cohort_level_response_rates():
    from immune_correlates.design import make_analysis

    null = make_analysis("firth").null_design(OFA_LEN_DESIGN)
    assert not null.coefficients("or_cr").any() and not null.coefficients("hr_pfs").any()
    assert null.p_cr == pytest.approx(marginal_response_rates(OFA_LEN_DESIGN)["cr"])
    stronger = make_analysis("firth").with_effect(OFA_LEN_DESIGN, 1.5)
    assert stronger.or_cr["nk_function"] == 1.5
    assert marginal_response_rates(stronger)["cr"] == pytest.approx(marginal_response_rates(OFA_LEN_DESIGN)["cr"])
