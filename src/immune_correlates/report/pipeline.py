"""The whole correlative analysis of a cohort, as tables.

:func:`run_analysis` reproduces the analysis of the ofatumumab + lenalidomide
trial on any cohort, one step at a time: the trial summary; Table 1 (baseline
characteristics by group); the two compared groups head to head and all groups
of the comparison column; one logistic model of the binary endpoint and one
Cox model of progression-free survival per feature (both through
:func:`~immune_correlates.screen`, multiplicity-adjusted); Kaplan-Meier curves
split at the median of a chosen feature (:func:`~immune_correlates.features.split_groups`)
with the log-rank test and the maximally selected log-rank cutpoint; and the
screen of the whole panel.

Every patient left out of any step is listed with the step and the reason.  A
step that cannot be estimated (no complete remission, no progression event,
a feature that cannot be derived) does not stop the run: it is recorded in
``notes`` and the report says so.  ``record`` lists every method that produced
a number, read from the result tables themselves; the methods text is
generated from it (:mod:`.methods`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import ConfigError, ImmuneCorrelatesError, ImmuneCorrelatesWarning, MissingDataWarning
from ..features import build_features, log2_transform, scale_per_sd, split_groups
from ..features.frame import analysis_frame
from ..features.labels import column_label, column_unit
from ..stats.groups.compare import compare_groups
from ..stats.groups.table_one import TABLE_ONE_CLINICAL, table_one
from ..stats.groups.trial_summary import trial_summary
from ..stats.regression.design_matrix import screen_terms
from ..stats.screening.resampling import permutation_test
from ..stats.screening.screen import screen
from ..stats.survival.cutpoint import optimal_cutpoint
from ..stats.survival.hazard_ratios import group_hazard_ratios
from ..stats.survival.kaplan_meier import kaplan_meier
from ..stats.survival.logrank import logrank_test
from .config import AnalysisConfig
from .missing import imputed_models
from .monitoring import monitoring_step
from .populations import population_tables
from .response_time import response_and_survival

__all__ = ["AnalysisResults", "run_analysis", "model_features", "STEPS", "table_one_label"]


def table_one_label(column: str) -> str:
    """A Table 1 row label as gtsummary users write them: ``"NK cells, cells/µL"``."""
    unit = column_unit(column)
    return f"{column_label(column)}, {unit}" if unit else column_label(column)


_EMPTY_EXCL = ["step", "patient_id", "reason"]


@dataclass(frozen=True, eq=False)
class AnalysisResults:
    """Everything an analysis produced.

    ``tables`` (DataFrames by name), ``objects`` (fitted results), ``exclusions``
    (``step``, ``patient_id``, ``reason``), ``warnings`` raised, ``notes`` (step
    name -> why it could not be estimated, or what was dropped), ``record``
    (method keys of :data:`.methods.METHODS` that produced numbers, in order),
    ``features`` (the features actually analysed) and ``scales`` (feature ->
    transform description).
    """

    config: AnalysisConfig
    frame: pd.DataFrame
    model_frame: pd.DataFrame
    tables: dict
    objects: dict
    exclusions: pd.DataFrame
    warnings: tuple[str, ...] = field(default=())
    notes: dict = field(default_factory=dict)
    record: tuple[str, ...] = field(default=())
    features: tuple[str, ...] = field(default=())
    scales: dict = field(default_factory=dict)
    n_patients: int = 0


def model_features(frame: pd.DataFrame, features, catalogue: pd.DataFrame, *, log2_counts: bool, per_sd: bool):
    """Columns ready for modelling and a description of each transform.

    Counts (cells/uL) become ``log2(x + 1)`` and ratios ``log2(x)``
    (:func:`~immune_correlates.features.log2_transform`); then each is centred and
    divided by its SD (:func:`~immune_correlates.features.scale_per_sd`) when ``per_sd``.
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


class ModelUnavailable(ImmuneCorrelatesError):
    """A step of the report cannot be estimated on these data (recorded as a note, not raised to the user)."""


class _Run:
    """Mutable state of one run; the steps below add tables, objects, exclusions, notes and records."""

    def __init__(self, cohort, config: AnalysisConfig):
        self.cohort, self.config = cohort, config
        self.tables, self.objects, self.excl, self.notes, self.record = {}, {}, [], {}, []
        self.frame = self.model_frame = pd.DataFrame()
        self.features: list[str] = []
        self.scales: dict = {}
        self.catalogue = pd.DataFrame(columns=["feature", "kind"])

    def add_record(self, *keys) -> None:
        for k in keys:
            if k and k not in self.record:
                self.record.append(k)

    def exclude(self, step: str, table) -> None:
        if table is not None and len(table):
            self.excl.append(table.assign(step=step)[_EMPTY_EXCL])


def _step_trial_summary(run: _Run) -> None:
    ts = trial_summary(run.cohort, alpha=run.config.alpha)
    run.tables["trial_summary"] = ts.reset_index()
    run.add_record(*ts.loc[ts["value"].notna() | ts["ci_lower"].notna(), "method"])


def _step_features(run: _Run) -> None:
    cfg, cohort = run.config, run.cohort
    fs = build_features(cohort, timepoint=cfg.timepoint, exclude_flagged=cfg.exclude_flagged, errors="missing")
    run.objects["features"] = fs
    run.catalogue = fs.catalogue
    run.tables["features"] = fs.values.reset_index()
    run.tables["feature_catalogue"] = fs.catalogue
    run.tables["feature_quality"] = fs.quality
    run.excl.append(
        fs.missing.assign(step="features", reason=fs.missing["feature"] + ": " + fs.missing["reason"])[_EMPTY_EXCL]
    )
    if len(cohort.exclusions):
        run.exclude("read_cohort", cohort.exclusions)
    run.frame = analysis_frame(cohort, features=fs.values)
    unknown = [
        c
        for c in list(cfg.features)
        + list(cfg.covariates)
        + [cfg.km_feature, cfg.group, cfg.binary, cfg.duration, cfg.event]
        if c not in run.frame.columns
    ]
    if unknown:
        raise ConfigError(f"run_analysis: unknown column(s) {unknown}; available: {list(run.frame.columns)}.")
    _check_compare(run)
    dropped = []
    for f in cfg.features:
        x = pd.to_numeric(run.frame[f], errors="coerce")
        if x.notna().sum() < 3 or x.nunique(dropna=True) < 2:
            dropped.append(f"{column_label(f)} ({x.notna().sum()} values, {x.nunique(dropna=True)} distinct)")
        else:
            run.features.append(f)
    if dropped:
        run.notes["features"] = (
            "Dropped because they could not be computed or do not vary: "
            + "; ".join(dropped)
            + ". See the exclusions table for the patients and reasons."
        )
    mf, run.scales = model_features(
        run.frame, run.features, fs.catalogue, log2_counts=cfg.log2_counts, per_sd=cfg.per_sd
    )
    run.model_frame = run.frame.drop(columns=run.features).join(mf)


def _record_tests(run: _Run, table: pd.DataFrame) -> None:
    """Record the test of every row that produced a p-value (the table's own ``test`` column)."""
    if "test" not in table:
        return
    done = table[pd.to_numeric(table["p_value"], errors="coerce").notna()]
    for t in done["test"].unique():
        run.add_record({"fisher": "fisher_exact"}.get(t, t))


def _step_table_one(run: _Run) -> None:
    cfg = run.config
    variables = [v for v in TABLE_ONE_CLINICAL if v in run.frame.columns and run.frame[v].notna().any()]
    variables += [f for f in run.features if f not in variables]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ImmuneCorrelatesWarning)
        tab = table_one(run.frame, cfg.group, variables, labels={f: table_one_label(f) for f in run.features})
    run.tables["table_one"] = tab
    _record_tests(run, tab)
    run.add_record("smd")
    missing_group = run.frame.index[run.frame[cfg.group].isna()]
    run.exclude("table_one", pd.DataFrame({"patient_id": missing_group, "reason": f"{cfg.group} missing"}))


def _check_compare(run: _Run) -> None:
    """Levels asked for with ``compare`` must exist: otherwise the whole comparison would be empty."""
    cfg = run.config
    if not cfg.compare:
        return
    present = run.frame[cfg.group].dropna().unique().tolist()
    absent = [lv for lv in cfg.compare if lv not in present]
    if absent:
        shown = ", ".join(sorted(map(str, present)))
        raise ConfigError(
            f"compare: {cfg.group} has no level {absent[0]!r} (its levels are {shown}); "
            f"name two of them, e.g. --compare {' '.join(sorted(map(str, present), reverse=True)[:2])}."
        )


def _step_comparison(run: _Run) -> None:
    cfg = run.config
    levels = cfg.compare_levels(run.frame[cfg.group])
    present = set(run.frame[cfg.group].dropna().unique().tolist())
    absent = [lv for lv in levels if lv not in present]
    if absent:
        raise ModelUnavailable(
            f"no patient has {cfg.group} = {absent[0]!r}, so {levels[0]!r} and {levels[1]!r} "
            f"cannot be compared (levels present: {sorted(map(str, present))})."
        )
    two = compare_groups(run.frame, run.features, cfg.group, groups=levels, adjust=cfg.adjust, alpha=cfg.alpha)
    run.tables["comparison"] = two
    run.objects["compare_levels"] = levels
    _record_tests(run, two)
    run.add_record("hodges_lehmann" if "hodges_lehmann" in two else None, cfg.adjust)
    if len(present) > 2:
        every = compare_groups(run.frame, run.features, cfg.group, adjust=cfg.adjust, alpha=cfg.alpha)
        run.tables["all_groups"] = every
        _record_tests(run, every)
        run.add_record("jonckheere" if "jt_p_value" in every else None)


def _check_binary(run: _Run) -> None:
    y = pd.to_numeric(run.frame[run.config.binary], errors="coerce").dropna()
    if (y == 1).sum() == 0 or (y == 0).sum() == 0:
        level = "1" if (y == 1).sum() == 0 else "0"
        binary = run.config.binary
        raise ModelUnavailable(
            f"no patient has {binary} = {level} ({column_label(binary)}), so its odds cannot be modelled."
        )


def _check_events(run: _Run) -> None:
    e = pd.to_numeric(run.frame[run.config.event], errors="coerce")
    if (e == 1).sum() == 0:
        raise ModelUnavailable(
            f"no patient has {run.config.event} = 1 ({column_label(run.config.event).lower()}: no events), "
            "so survival models, medians "
            "and log-rank tests cannot be estimated."
        )


def _record_transforms(run: _Run, features) -> None:
    """Record the transforms of the features a model table used."""
    cfg = run.config
    kinds = run.catalogue.set_index("feature")["kind"] if len(run.catalogue) else pd.Series(dtype=object)
    used = {kinds.get(f) for f in features}
    run.add_record(
        "log2_count" if cfg.log2_counts and "count" in used else None,
        "log2_ratio" if cfg.log2_counts and "ratio" in used else None,
        "per_sd" if cfg.per_sd else None,
        "composite" if "composite" in used else None,
    )


def _record_models(run: _Run, table: pd.DataFrame) -> None:
    _record_transforms(run, table["feature"])
    for key in (table["method"] + "_" + table["family"]).dropna().unique():  # firth_logistic, ml_cox, ...
        run.add_record(key)
    for t in table["test"].dropna().unique():
        run.add_record({"lr": "lr_test", "wald": "wald_test"}.get(t, t))
    run.add_record(
        f"{run.config.ci}_ci",
        "complete_case",
        "covariates" if run.config.covariates or run.config.adjustment else None,
        run.config.adjust,
    )


def _model_table(run: _Run, table: pd.DataFrame, step: str) -> pd.DataFrame:
    table.insert(1, "scale", table["feature"].map(run.scales))
    for _, row in table.iterrows():
        ids = row.get("excluded")
        if isinstance(ids, str):  # screen lists the ids left out as "A, B"
            ids = [i.strip() for i in ids.split(",") if i.strip()]
        if isinstance(ids, (list, tuple)) and ids:
            run.exclude(
                f"{step}:{row['feature']}",
                pd.DataFrame(
                    {"patient_id": list(ids), "reason": f"missing {row['feature']}, the outcome or a covariate"}
                ),
            )
    return table


def _screen_kwargs(run: _Run, family: str) -> dict:
    cfg = run.config
    logistic, cox = cfg.screen_models
    if family == "logistic":
        return {"outcome": cfg.binary, "model": logistic}
    return {"duration": cfg.duration, "event": cfg.event, "model": cox}


def _adjusted(run: _Run, data: pd.DataFrame) -> tuple[pd.DataFrame, list]:
    """``data`` and the adjustment covariates: the configured columns, or the model-matrix columns of the
    ``[models] adjustment`` formula (``age + C(sex)`` -> ``age``, ``C(sex)[T.M]``)."""
    cfg = run.config
    if not cfg.adjustment:
        return data, list(cfg.covariates)
    data, _, _, _, covs = screen_terms(data, f"`{cfg.binary}` ~ {cfg.adjustment}", given=(), caller="report")
    return data, list(covs)


def _model_step(run: _Run, family: str, key: str) -> None:
    """One model per configured feature (the model tables), with the report's inference convention."""
    cfg = run.config
    data, covs = _adjusted(run, run.model_frame)
    table = screen(
        data,
        run.features,
        covariates=covs,
        adjust=cfg.adjust,
        alpha=cfg.alpha,
        ci=cfg.ci,
        **_screen_kwargs(run, family),
    )
    run.tables[key] = _model_table(run, table, family)
    _record_models(run, table)


def _step_logistic(run: _Run) -> None:
    _check_binary(run)
    _model_step(run, "logistic", "logistic_cr")


def _step_cox(run: _Run) -> None:
    _check_events(run)
    _model_step(run, "cox", "cox_pfs")


def _step_imputation(run: _Run) -> None:
    """``[missing] method = "impute"``: the model tables refitted on multiply imputed data (see :mod:`.missing`)."""
    if run.config.missing != "impute":
        return
    data, covs = _adjusted(run, run.model_frame)
    imputed_models(run, data, covs, {family: _screen_kwargs(run, family) for family in ("logistic", "cox")})


def _step_kaplan_meier(run: _Run) -> None:
    _check_events(run)
    cfg = run.config
    kf = cfg.km_feature
    complete = run.frame[[cfg.duration, cfg.event, kf]].dropna()
    if complete[kf].nunique() < 2:
        raise ModelUnavailable(
            f"{column_label(kf)} has {complete[kf].nunique()} distinct value(s) among patients with survival "
            "data, so it cannot be split at its median (see the exclusions table)."
        )
    split = split_groups(run.frame, kf, among=[cfg.duration, cfg.event])
    km = kaplan_meier(split.frame, cfg.duration, cfg.event, group=split.column, alpha=cfg.alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingDataWarning)  # the same patients as the curves' exclusions
        hr = group_hazard_ratios(
            split.frame, cfg.duration, cfg.event, split.column, levels=split.levels, alpha=cfg.alpha, ci=cfg.ci
        )
    run.objects.update(km=km, km_split=split, km_cut=split.cut, km_hazard_ratio=hr)
    run.tables["km_median_split"] = km.median().reset_index()
    lr = logrank_test(split.frame, cfg.duration, cfg.event, split.column)
    run.objects["logrank"] = lr
    run.tables["logrank_median_split"] = pd.DataFrame(
        [{"feature": kf, "cut": split.cut, "statistic": lr.statistic, "df": lr.df, "p_value": lr.pvalue}]
    )
    run.exclude("kaplan_meier", km.excluded)
    run.add_record("median_split", "km_median", "logrank")
    cp = optimal_cutpoint(run.frame, kf, cfg.duration, cfg.event, pmethod="lausen92")
    run.objects["cutpoint"] = cp
    run.tables["cutpoint"] = cp.summary()
    run.add_record("maxstat")


def _screen_one(run: _Run, family: str) -> pd.DataFrame:
    cfg = run.config
    fs = run.objects["features"]
    panel = [f for f in fs.values.columns if run.frame[f].notna().sum() >= 10 and run.frame[f].nunique(dropna=True) > 1]
    if not panel:
        raise ModelUnavailable("no feature has values for at least 10 patients, the least the screen needs.")
    mf, scales = model_features(run.frame, panel, fs.catalogue, log2_counts=cfg.log2_counts, per_sd=cfg.per_sd)
    data, covs = _adjusted(run, run.frame.drop(columns=panel).join(mf))
    kwargs = _screen_kwargs(run, family)
    table = screen(data, panel, covariates=covs, adjust=cfg.adjust, alpha=cfg.alpha, ci=cfg.ci, **kwargs)
    _record_models(run, table)
    if cfg.n_perm > 0:
        perm = permutation_test(data, panel, covariates=covs, n_perm=cfg.n_perm, seed=cfg.seed, **kwargs)
        table = table.merge(perm[["feature", "p_perm", "p_maxt"]], on="feature", how="left")
        run.add_record("permutation", "maxt")
    table.insert(1, "scale", table["feature"].map(scales))
    return table.sort_values("p_value", kind="stable").reset_index(drop=True)


def _step_screen_cr(run: _Run) -> None:
    _check_binary(run)
    run.tables["screen_cr"] = _screen_one(run, "logistic")


def _step_screen_pfs(run: _Run) -> None:
    _check_events(run)
    run.tables["screen_pfs"] = _screen_one(run, "cox")


def _step_populations(run: _Run) -> None:
    """``[populations] counts``: abundance between the compared groups and outcome screens (see :mod:`.populations`)."""
    if run.config.population_counts is None:
        return
    usable = {}
    for family, check in (("logistic", _check_binary), ("cox", _check_events)):
        try:
            check(run)
            usable[family] = _screen_kwargs(run, family)
        except ModelUnavailable:
            continue
    data, covs = _adjusted(run, run.frame)
    for table in population_tables(run, data, covs, usable):
        _record_models(run, table)
    run.add_record("differential_abundance", "population_clr" if run.config.population_transform == "clr" else None)


def _step_response_survival(run: _Run) -> None:
    """Survival by response treated as a later event: landmark and time-dependent Cox (see .response_time)."""
    cfg = run.config
    out = response_and_survival(run.frame.reset_index(), cfg.duration, cfg.event, ci=cfg.ci)
    run.tables.update(out["tables"])
    run.objects["response_survival_text"] = out["text"]
    if out["tables"]:
        run.add_record("landmark", "time_dependent_cox", "mantel_byar")


#: Failures of a numerical library on data too small or degenerate for a step (reported, never a traceback).
_NUMERICAL_FAILURES = (np.linalg.LinAlgError, ValueError, ZeroDivisionError, FloatingPointError, IndexError)


def _reason(exc: Exception) -> str:
    if isinstance(exc, ImmuneCorrelatesError):
        return str(exc)
    detail = str(exc).splitlines()[0] if str(exc) else "no detail"
    return f"too few patients or events for this model (the numerical library reported: {detail})."


#: The steps of a run, in order: (name, function, what a user reads when it cannot be estimated).
STEPS: list[tuple[str, Callable[[_Run], None]]] = [
    ("trial_summary", _step_trial_summary),
    ("features", _step_features),
    ("table_one", _step_table_one),
    ("comparison", _step_comparison),
    ("logistic", _step_logistic),
    ("cox", _step_cox),
    ("imputation", _step_imputation),
    ("kaplan_meier", _step_kaplan_meier),
    ("screen_cr", _step_screen_cr),
    ("screen_pfs", _step_screen_pfs),
    ("populations", _step_populations),
    ("response_survival", _step_response_survival),
    ("monitoring", monitoring_step),
]


def run_analysis(cohort, config: AnalysisConfig | None = None, *, progress=None) -> AnalysisResults:
    """Run the standard correlative analysis on a cohort.

    Parameters
    ----------
    cohort : Cohort
    config : AnalysisConfig, optional
        Defaults reproduce the analysis of the bundled cohort.
    progress : callable, optional
        Called as ``progress(step_name)`` after each step (the command line's bar).

    Returns
    -------
    AnalysisResults
        A step that cannot be estimated on these data (no complete remission, no
        events, a missing level of the compared groups) leaves its tables out and
        says why in ``notes``; configuration errors (unknown columns) raise
        :class:`~immune_correlates.errors.ConfigError`.

    Examples
    --------
    >>> import immune_correlates as ic
    >>> from immune_correlates.report import run_analysis
    >>> res = run_analysis(ic.datasets.load_ofa_len())  # doctest: +SKIP
    >>> res.tables["logistic_cr"][["feature", "odds_ratio", "q_value"]]  # doctest: +SKIP
    """
    config = config or AnalysisConfig()
    run = _Run(cohort, config)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always", ImmuneCorrelatesWarning)
        for name, step in STEPS:
            try:
                step(run)
            except ConfigError:
                raise
            except (ImmuneCorrelatesError, *_NUMERICAL_FAILURES) as exc:
                if name == "features":
                    raise
                run.notes[name] = f"Not estimable on these data: {_reason(exc)}"
            if progress is not None:
                progress(name)
        caught = [
            f"{w.category.__name__}: {w.message}" for w in record if issubclass(w.category, ImmuneCorrelatesWarning)
        ]
    excl = [e for e in run.excl if len(e)]
    exclusions = pd.concat(excl, ignore_index=True) if excl else pd.DataFrame(columns=_EMPTY_EXCL)
    run.tables["exclusions"] = exclusions
    n = int(len(cohort.clinical))
    return AnalysisResults(
        config=config,
        frame=run.frame,
        model_frame=run.model_frame,
        tables=run.tables,
        objects=run.objects,
        exclusions=exclusions,
        warnings=tuple(dict.fromkeys(caught)),
        notes=dict(run.notes),
        record=tuple(run.record),
        features=tuple(run.features),
        scales=dict(run.scales),
        n_patients=n,
    )
