"""The whole correlative analysis of a cohort, as tables.

:func:`run_analysis` reproduces the analysis of the ofatumumab + lenalidomide
trial on any cohort: the trial summary; baseline features; complete responders
against non-responders and the three ordered response groups; one Firth
logistic model of complete remission and one Cox model of progression-free
survival per feature (multiplicity-adjusted); Kaplan-Meier curves split at the
median of a chosen feature with the log-rank test; and the maximally selected
log-rank cutpoint with its corrected p-value.  Every patient left out of any
step is listed with the step and the reason.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..data.frame import analysis_frame
from ..data.summary import trial_summary
from ..errors import ImmuneCorrelatesError, ImmuneCorrelatesWarning
from ..features import build_features, log2_transform, scale_per_sd
from ..stats.compare import compare_groups
from ..stats.cox import fit_cox
from ..stats.cutpoint import optimal_cutpoint
from ..stats.kaplan_meier import kaplan_meier
from ..stats.logistic import fit_logistic
from ..stats.logrank import logrank_test
from ..stats.multiplicity import adjust_pvalues
from ..stats.resampling import permutation_test
from ..stats.screen import screen
from .config import AnalysisConfig
from .response_time import response_and_survival

__all__ = ["AnalysisResults", "run_analysis", "model_features"]


@dataclass(frozen=True, eq=False)
class AnalysisResults:
    """Everything an analysis produced: tables, fitted objects, methods and exclusions."""

    config: AnalysisConfig
    frame: pd.DataFrame
    model_frame: pd.DataFrame
    tables: dict
    objects: dict
    exclusions: pd.DataFrame
    warnings: tuple[str, ...] = field(default=())


def model_features(frame: pd.DataFrame, features, catalogue: pd.DataFrame, *, log2_counts: bool, per_sd: bool):
    """Columns ready for modelling and a description of each transform.

    Counts (cells/uL) become ``log2(x + 1)``; ratios ``log2(x)``; then each is
    divided by its SD (and centred) when ``per_sd``.
    """
    kinds = catalogue.set_index("feature")["kind"] if len(catalogue) else pd.Series(dtype=object)
    out = pd.DataFrame(index=frame.index)
    scales = {}
    for f in features:
        x = frame[f].astype(float)
        kind = kinds.get(f, "")
        desc = f
        if log2_counts and kind == "count":
            x, desc = log2_transform(x, offset=1.0), f"log2({f} + 1)"
        elif log2_counts and kind == "ratio":
            x, desc = log2_transform(x, offset=0.0), f"log2({f})"
        if per_sd:
            sd = float(x.std(ddof=1))
            x = scale_per_sd(x)
            desc = f"per SD of {desc} (SD = {sd:.4g})"
        out[f] = x.to_numpy()
        scales[f] = desc
    return out, scales


def _exclusions(step: str, table: pd.DataFrame) -> pd.DataFrame:
    if table is None or not len(table):
        return pd.DataFrame(columns=["step", "patient_id", "reason"])
    return table.assign(step=step)[["step", "patient_id", "reason"]]


def _per_feature(fit, features, scales, ratio_name, adjust):
    rows, objects, excl = [], {}, []
    for f in features:
        res = fit(f)
        objects[f] = res
        s = res.summary().set_index("term").loc[f]
        rows.append({"feature": f, "scale": scales[f], "estimate": s["estimate"], "std_error": s["std_error"],
                     "ci_lower": s["ci_lower"], "ci_upper": s["ci_upper"], ratio_name: s[ratio_name],
                     f"{ratio_name}_ci_lower": s[f"{ratio_name}_ci_lower"],
                     f"{ratio_name}_ci_upper": s[f"{ratio_name}_ci_upper"], "p_value": s["p_value"],
                     "method": res.method, "ci_method": res.ci_method, "test": res.test,
                     "n": res.nobs, "n_events": res.n_events})
        excl.append(_exclusions(f, res.excluded))
    table = pd.DataFrame(rows)
    table["q_value"] = adjust_pvalues(table["p_value"].to_numpy(), method=adjust)
    return table, objects, excl


def _screens(frame, fs, config: AnalysisConfig):
    """Every derived feature against both endpoints: BH q-values and Westfall-Young maxT p-values."""
    panel = [f for f in fs.values.columns
             if fs.values[f].notna().sum() >= 10 and fs.values[f].nunique(dropna=True) > 1]
    mf, scales = model_features(frame, panel, fs.catalogue, log2_counts=config.log2_counts, per_sd=config.per_sd)
    data = frame.drop(columns=[c for c in panel if c in frame.columns]).join(mf)
    covs = tuple(config.covariates)
    out = []
    for kwargs, model in (({"outcome": config.binary}, config.logistic),
                          ({"duration": config.duration, "event": config.event},
                           "cox" if config.cox == "ml" else "firth_cox")):
        table = screen(data, panel, model=model, covariates=covs, adjust=config.adjust, alpha=config.alpha, **kwargs)
        if config.n_perm > 0:
            perm = permutation_test(data, panel, model=model, covariates=covs, n_perm=config.n_perm,
                                    seed=config.seed, **kwargs)
            table = table.merge(perm[["feature", "p_perm", "p_maxt"]], on="feature", how="left")
        table.insert(1, "scale", table["feature"].map(scales))
        out.append(table.sort_values("p_value", kind="stable").reset_index(drop=True))
    return out[0], out[1]


def run_analysis(cohort, config: AnalysisConfig | None = None) -> AnalysisResults:
    """Run the standard correlative analysis on a cohort.

    Parameters
    ----------
    cohort : Cohort
    config : AnalysisConfig, optional
        Defaults reproduce the analysis of the bundled cohort.

    Returns
    -------
    AnalysisResults
        ``tables`` (DataFrames by name), ``objects`` (fitted results),
        ``exclusions`` (``step``, ``patient_id``, ``reason``) and the warnings raised.

    Examples
    --------
    >>> import immune_correlates as ic
    >>> from immune_correlates.report import run_analysis
    >>> res = run_analysis(ic.datasets.load_ofa_len())  # doctest: +SKIP
    >>> res.tables["logistic_cr"][["feature", "odds_ratio", "q_value"]]  # doctest: +SKIP
    """
    config = config or AnalysisConfig()
    caught: list[str] = []
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always", ImmuneCorrelatesWarning)
        tables, objects, excl = {}, {}, []
        tables["trial_summary"] = trial_summary(cohort, alpha=config.alpha).reset_index()
        fs = build_features(cohort, timepoint=config.timepoint, exclude_flagged=config.exclude_flagged)
        objects["features"] = fs
        tables["features"] = fs.values.reset_index()
        tables["feature_catalogue"] = fs.catalogue
        tables["feature_quality"] = fs.quality
        excl.append(fs.missing.assign(step="features", reason=fs.missing["feature"] + ": " + fs.missing["reason"])
                    [["step", "patient_id", "reason"]])
        gaps = cohort.exclusions
        if len(gaps):
            excl.append(gaps.assign(step="read_cohort")[["step", "patient_id", "reason"]])
        frame = analysis_frame(cohort, features=fs.values)
        features = list(config.features)
        unknown = [f for f in features + list(config.covariates) + [config.km_feature] if f not in frame.columns]
        if unknown:
            raise ImmuneCorrelatesError(
                f"run_analysis: unknown column(s) {unknown}; available: {list(frame.columns)}.")
        mf, scales = model_features(frame, features, fs.catalogue, log2_counts=config.log2_counts, per_sd=config.per_sd)
        model_frame = frame.drop(columns=features).join(mf)

        two = compare_groups(frame, features, config.group, groups=["CR", "NR"], adjust=config.adjust)
        tables["cr_vs_nr"] = two
        tables["response_groups"] = compare_groups(frame, features, config.group, adjust=config.adjust)

        covs = list(config.covariates)
        logit, objects["logistic"], ex = _per_feature(
            lambda f: fit_logistic(model_frame, config.binary, [f] + covs, method=config.logistic, ci=config.ci,
                                   alpha=config.alpha),
            features, scales, "odds_ratio", config.adjust)
        tables["logistic_cr"] = logit
        excl.extend(ex)
        cox, objects["cox"], ex = _per_feature(
            lambda f: fit_cox(model_frame, config.duration, config.event, [f] + covs, method=config.cox,
                              ci=config.ci, alpha=config.alpha),
            features, scales, "hazard_ratio", config.adjust)
        tables["cox_pfs"] = cox
        excl.extend(ex)

        kf = config.km_feature
        sub = frame[[config.duration, config.event, kf]].dropna()
        cut = float(sub[kf].median())
        km_frame = frame.assign(**{f"{kf}_group": np.where(frame[kf].isna(), None,
                                                           np.where(frame[kf] > cut, "above median", "at or below median"))})
        km_frame[f"{kf}_group"] = pd.Categorical(km_frame[f"{kf}_group"], categories=["at or below median", "above median"])
        km = kaplan_meier(km_frame, config.duration, config.event, group=f"{kf}_group", alpha=config.alpha)
        objects["km"], objects["km_frame"], objects["km_cut"] = km, km_frame, cut
        tables["km_median_split"] = km.median().reset_index()
        lr = logrank_test(km_frame, config.duration, config.event, f"{kf}_group")
        objects["logrank"] = lr
        tables["logrank_median_split"] = pd.DataFrame([{"feature": kf, "cut": cut, "statistic": lr.statistic,
                                                        "df": lr.df, "p_value": lr.pvalue}])
        excl.append(_exclusions("kaplan_meier", km.excluded))
        cp = optimal_cutpoint(frame, kf, config.duration, config.event, pmethod="lausen92")
        objects["cutpoint"] = cp
        tables["cutpoint"] = cp.summary()
        tables["screen_cr"], tables["screen_pfs"] = _screens(frame, fs, config)
        response = response_and_survival(frame, config.duration, config.event)  # landmark + time-dependent
        tables.update(response["tables"])
        objects["response_survival_text"] = response["text"]
        caught = [f"{w.category.__name__}: {w.message}" for w in record if issubclass(w.category, ImmuneCorrelatesWarning)]
    exclusions = pd.concat([e for e in excl if len(e)], ignore_index=True) if any(len(e) for e in excl) \
        else pd.DataFrame(columns=["step", "patient_id", "reason"])
    tables["exclusions"] = exclusions
    return AnalysisResults(config=config, frame=frame, model_frame=model_frame, tables=tables, objects=objects,
                           exclusions=exclusions, warnings=tuple(dict.fromkeys(caught)))
