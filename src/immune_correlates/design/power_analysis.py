"""Power and operating characteristics of a planned analysis, by simulation.

:func:`power` simulates ``n_sim`` trials of a design
(:func:`~immune_correlates.design.simulate_batch.simulate_trials`), runs the
planned analysis on every trial through the batched engine and reports, each
with its Monte Carlo standard error: power, the type I error under the null
design, the bias, coverage and width of ML and Firth intervals, how often
separation or monotone likelihood occurs and, for screens, the false
discovery proportion.  :func:`power_curve` repeats this over a grid of
sample sizes and effect sizes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._params import ALPHA, SEED, Instance, Interval, Options, check_params
from .._results import ResultDisplay
from ..data.design import OFA_LEN_DESIGN, TrialDesign
from .analyses import (
    ANALYSES,
    Analysis,
    CoxAnalysis,
    LogisticAnalysis,
    ScreenAnalysis,
    make_analysis,
)
from .simulate_batch import simulate_trials

__all__ = ["PowerResult", "PowerCurve", "power", "power_curve", "run_power_cli"]

_COLUMNS = ["estimand", "value", "mc_se", "n_sim", "description"]


def _prop(name, flags, description):
    flags = np.asarray(flags, bool)
    m = flags.size
    v = flags.mean() if m else np.nan
    return (name, float(v), float(np.sqrt(v * (1 - v) / m)) if m else np.nan, m, description)


def _mean(name, values, description):
    values = np.asarray(values, float)
    values = values[np.isfinite(values)]
    m = values.size
    v = values.mean() if m else np.nan
    se = values.std(ddof=1) / np.sqrt(m) if m > 1 else np.nan
    return (name, float(v), float(se), m, description)


def _estimator_rows(out: dict, truth: float, method: str, label: str, alpha: float, ci: str) -> list:
    ok = out[f"finite_{method}"] & np.isfinite(out[f"estimate_{method}"])
    est = out[f"estimate_{method}"][ok]
    lo, hi = out[f"lower_{method}"][ok], out[f"upper_{method}"][ok]
    level = f"{100 * (1 - alpha):g}% {'Wald' if ci == 'wald' else 'profile'}"
    cond = " (trials with a finite estimate)" if method == "ml" else ""
    return [
        _mean(f"bias_{method}", est - truth, f"mean {label} estimate minus the true value{cond}"),
        _prop(f"coverage_{method}", (lo <= truth) & (truth <= hi), f"{level} interval covers the true value{cond}"),
        _mean(f"ci_width_{method}", hi - lo, f"mean width of the {level} interval{cond}"),
    ]


def _rows(analysis: Analysis, out: dict, out0: dict | None, truth: float) -> list:
    a = analysis.alpha
    if isinstance(analysis, ScreenAnalysis):
        rows = [
            _prop("power_any", out["any_true"], "at least one truly associated feature discovered"),
            _mean("power_average", out["true_discovery_share"], "share of truly associated features discovered"),
            _mean("fdr", out["fdp"], "false discovery proportion V / max(R, 1), averaged (the FDR)"),
            _mean("discoveries", out["discoveries"], "features declared associated per trial"),
            _prop("fwer", out["false_discoveries"] > 0, "at least one false discovery"),
        ]
        if out0 is not None:
            rows.append(_prop("type1_error", out0["reject"], "any discovery under the null design (FWER)"))
        rows.append(
            _mean("separation_or_monotone", out["flagged"], "share of per-feature models with infinite ML estimates")
        )
        rows.append(_mean("n_events", out["n_events"], "events (CR or PFS) per trial"))
        return rows
    rows = [_prop("power", out["reject"], f"p < {a:g} under the design")]
    if out0 is not None:
        rows.append(_prop("type1_error", out0["reject"], f"p < {a:g} under the null design (no immune effect)"))
    rows.append(_mean("n_events", out["n_events"], "events (CR or PFS) per trial"))
    if isinstance(analysis, LogisticAnalysis):
        rows.append(_prop("separation", out["separation"], "trials whose ML estimate is infinite (separation)"))
    if isinstance(analysis, CoxAnalysis):
        rows.append(
            _prop(
                "monotone_likelihood",
                out["monotone_likelihood"],
                "trials whose ML estimate is infinite (monotone likelihood)",
            )
        )
    if isinstance(analysis, (LogisticAnalysis, CoxAnalysis)):
        rows.append(("true_value", float(truth), np.nan, 0, "pseudo-true coefficient (ML fit to 10^5-10^6 patients)"))
        rows += _estimator_rows(out, truth, "ml", "ML", a, analysis.ci)
        rows += _estimator_rows(out, truth, "firth", "Firth", a, analysis.ci)
    return rows


@dataclass(frozen=True, eq=False, repr=False)
class PowerResult(ResultDisplay):
    """Operating characteristics of one analysis under one design.

    Attributes
    ----------
    table : DataFrame
        ``estimand, value, mc_se, n_sim, description`` (see :meth:`summary`).
    trials : DataFrame
        Per simulated trial: p-value, rejection and the estimates.
    design : TrialDesign
    analysis : Analysis
    n_sim, n_patients : int
    seed : int or None
    """

    table: pd.DataFrame
    trials: pd.DataFrame
    design: TrialDesign
    analysis: Analysis
    n_sim: int
    n_patients: int
    seed: int | None
    notes: tuple = field(default=())

    def summary(self) -> pd.DataFrame:
        """Tidy table: one row per estimand with its Monte Carlo standard error."""
        return self.table.copy()

    def _value(self, name):
        t = self.table.set_index("estimand")
        return float(t.at[name, "value"]) if name in t.index else float("nan")

    @property
    def power(self) -> float:
        """Power (for a screen: probability of discovering at least one associated feature)."""
        return self._value("power_any" if isinstance(self.analysis, ScreenAnalysis) else "power")

    @property
    def type1_error(self) -> float:
        return self._value("type1_error")

    def _title(self) -> str:
        return f"Power: {self.analysis.label}, n = {self.n_patients}, {self.n_sim} simulated trials"

    def _notes(self) -> list[str]:
        return list(self.notes)


def _trial_frame(out: dict) -> pd.DataFrame:
    cols = {k: v for k, v in out.items() if not k.startswith("_")}
    frame = pd.DataFrame(cols)
    frame.index.name = "trial"
    return frame


_DESIGN = (Options(None), Instance(TrialDesign, name="a TrialDesign"))
_ANALYSIS = (Instance(Analysis, name="an Analysis"), Options(*sorted(ANALYSES)))
_BOOL = Instance(bool, name="True or False")


@check_params(
    design=_DESIGN,
    analysis=_ANALYSIS,
    n_sim=Interval(1, None, integer=True),
    seed=SEED,
    n_patients=(Options(None), Interval(2, None, integer=True)),
    null=_BOOL,
    true_value=(Options(None), Interval()),
    feature=Instance(str, name="a feature name"),
    alpha=ALPHA,
)
def power(
    design: TrialDesign | None = None,
    analysis: Analysis | str = "firth",
    *,
    n_sim: int = 1000,
    seed: int | None = None,
    n_patients: int | None = None,
    null: bool = True,
    true_value: float | None = None,
    feature: str = "nk_function",
    alpha: float = 0.05,
) -> PowerResult:
    """Simulate a design, run the planned analysis on every trial, report its operating characteristics.

    Parameters
    ----------
    design : TrialDesign, optional
        Default: the bundled cohort's design (``OFA_LEN_DESIGN``).
    analysis : Analysis or str
        The planned analysis: an :class:`~immune_correlates.design.analyses.Analysis`
        or a name of :data:`~immune_correlates.design.analyses.ANALYSES`
        (``"firth"``, ``"logistic"``, ``"wilcoxon"``, ``"cox"``, ``"firth_cox"``,
        ``"logrank"``, ``"screen"``, ...) applied to ``feature`` at level ``alpha``.
    n_sim : int
        Simulated trials.  The Monte Carlo SE of a power ``p`` is ``sqrt(p (1 - p) / n_sim)``.
    seed : int, optional
        Same seed, same numbers.  The null design is simulated from the same
        seed (common random numbers).
    n_patients : int, optional
        Patients per trial (default ``design.n_patients``).
    null : bool
        Also simulate the null design (no immune effect on CR or PFS) and
        report the type I error.
    true_value : float, optional
        The target of bias and coverage; default: the pseudo-true value of the
        analysis's coefficient (ML fit to one simulated trial of 10^5-10^6
        patients), which accounts for correlated drivers, measurement error
        and non-collapsibility.
    feature, alpha : str, float
        Used when ``analysis`` is a name.

    Returns
    -------
    PowerResult
        ``summary()`` has rows ``power``, ``type1_error``, ``n_events``,
        ``separation`` or ``monotone_likelihood``, ``true_value`` and
        ``bias_*``, ``coverage_*``, ``ci_width_*`` for ML and Firth (the
        analysis's ``ci``: Wald or profile intervals; ML over trials with a
        finite estimate); for a screen
        ``power_any``, ``power_average``, ``fdr``, ``discoveries``, ``fwer``.

    Notes
    -----
    Monte Carlo standard errors follow Morris, White & Crowther (2019),
    Stat Med 38:2074 (proportions ``sqrt(p(1-p)/n_sim)``, means ``SD/sqrt(n)``).
    Firth (1993) Biometrika 80:27; Heinze & Schemper (2001, 2002).

    Examples
    --------
    >>> import immune_correlates as ic
    >>> res = ic.power(analysis="firth", n_sim=200, seed=1)  # doctest: +SKIP
    >>> res.summary().set_index("estimand").loc["power", ["value", "mc_se"]]  # doctest: +SKIP
    """
    design = OFA_LEN_DESIGN if design is None else design
    model: Analysis = make_analysis(analysis, feature=feature, alpha=alpha)
    n = int(design.n_patients if n_patients is None else n_patients)
    batch = simulate_trials(design, n_sim=n_sim, seed=seed, n_patients=n)
    out = model.evaluate(batch)
    out0 = None
    if null:
        out0 = model.evaluate(simulate_trials(model.null_design(design), n_sim=n_sim, seed=seed, n_patients=n))
    truth = model.true_value(design) if true_value is None else float(true_value)
    rows = _rows(model, out, out0, truth)
    table = pd.DataFrame(rows, columns=_COLUMNS)
    notes = [
        f"design: {n} patients; P(CR) at the mean profile {design.p_cr:.3f}; seed {seed}",
        "mc_se: Monte Carlo standard error of each estimate",
    ]
    return PowerResult(table, _trial_frame(out), design, model, int(n_sim), n, seed, tuple(notes))


@dataclass(frozen=True, eq=False, repr=False)
class PowerCurve(ResultDisplay):
    """Power (and the other estimands) over a grid of sample sizes and effect sizes.

    Attributes
    ----------
    table : DataFrame
        Long format: ``n, effect, ratio, estimand, value, mc_se, n_sim``
        (``effect`` is the log odds or hazard ratio per SD of the driver,
        ``ratio`` its exponential; NaN effect: the design's own).
    analysis : Analysis
    design : TrialDesign
    seed : int or None
    """

    table: pd.DataFrame
    analysis: Analysis
    design: TrialDesign
    seed: int | None

    def summary(self) -> pd.DataFrame:
        return self.table.copy()

    def power_table(self, estimand: str | None = None) -> pd.DataFrame:
        """Wide table of one estimand (default power): rows ``n``, columns ``effect``."""
        estimand = estimand or ("power_any" if isinstance(self.analysis, ScreenAnalysis) else "power")
        sub = self.table[self.table["estimand"] == estimand]
        return sub.pivot(index="n", columns="effect", values="value")

    def _title(self) -> str:
        return f"Power curve: {self.analysis.label}"


@check_params(
    design=_DESIGN,
    analysis=_ANALYSIS,
    n_sim=Interval(1, None, integer=True),
    seed=SEED,
    null=_BOOL,
    feature=Instance(str, name="a feature name"),
    alpha=ALPHA,
)
def power_curve(
    design: TrialDesign | None = None,
    analysis: Analysis | str = "firth",
    n=(34,),
    effect=(None,),
    *,
    n_sim: int = 1000,
    seed: int | None = None,
    null: bool = False,
    feature: str = "nk_function",
    alpha: float = 0.05,
) -> PowerCurve:
    """:func:`power` over a grid of sample sizes ``n`` and effect sizes ``effect``.

    Parameters
    ----------
    design, analysis, n_sim, seed, null, feature, alpha
        As :func:`power`; every grid point uses the same seed (common random
        numbers, so curves are smooth and differences precise).
    n : sequence of int
        Patients per trial.
    effect : sequence of float or None
        Log odds ratio (logistic, Wilcoxon, logistic screens) or log hazard
        ratio (Cox, log-rank) per SD of the analysed driver; ``None`` keeps
        the design's value.

    Returns
    -------
    PowerCurve

    Examples
    --------
    >>> curve = power_curve(analysis="firth", n=[34, 60], effect=[0.5, 1.0], n_sim=200, seed=1)  # doctest: +SKIP
    >>> curve.power_table()  # doctest: +SKIP
    """
    design = OFA_LEN_DESIGN if design is None else design
    model: Analysis = make_analysis(analysis, feature=feature, alpha=alpha)
    ns: list = [n] if np.isscalar(n) else list(n)
    effects: list = [effect] if effect is None or np.isscalar(effect) else list(effect)
    parts = []
    for e in effects:
        d = design if e is None else model.with_effect(design, float(e))
        for k in ns:
            res = power(d, model, n_sim=n_sim, seed=seed, n_patients=int(k), null=null)
            t = res.table.drop(columns="description")
            t.insert(0, "ratio", np.nan if e is None else float(np.exp(e)))
            t.insert(0, "effect", np.nan if e is None else float(e))
            t.insert(0, "n", int(k))
            parts.append(t)
    return PowerCurve(pd.concat(parts, ignore_index=True), model, design, seed)


@check_params(
    n_sim=Interval(1, None, integer=True),
    seed=SEED,
    analysis=_ANALYSIS,
    feature=Instance(str, name="a feature name"),
    alpha=ALPHA,
    design=_DESIGN,
    null=_BOOL,
)
def run_power_cli(
    n,
    effect=None,
    *,
    n_sim: int = 1000,
    seed: int | None = None,
    analysis: str = "firth",
    feature: str = "nk_function",
    alpha: float = 0.05,
    design: TrialDesign | None = None,
    null: bool = True,
) -> pd.DataFrame:
    """Entry point of the ``power`` command: the power table over ``n`` x ``effect``.

    Parameters
    ----------
    n : int or sequence of int
    effect : float, sequence of float or None
        Log odds or hazard ratio per SD (``None``: the design's value).
    n_sim, seed, analysis, feature, alpha, design, null
        As :func:`power_curve`.

    Returns
    -------
    DataFrame
        Long table ``n, effect, ratio, estimand, value, mc_se, n_sim``.

    Examples
    --------
    >>> run_power_cli([34], [0.7], n_sim=100, seed=1, analysis="wilcoxon")  # doctest: +SKIP
    """
    curve = power_curve(
        design, analysis, n=n, effect=effect, n_sim=n_sim, seed=seed, null=null, feature=feature, alpha=alpha
    )
    return curve.summary()
