"""Derive every feature of a panel for one timepoint of a cohort.

:func:`build_features` returns a :class:`FeatureSet` (values, quality table,
catalogue, why each missing value is missing, count method per value);
:func:`derive_features` returns just its ``values``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._params import Instance, Interval, Options, check_params
from .._results import ResultDisplay
from ..data.gating import ROOT
from ..errors import DataQualityWarning, warn
from ._common import Computed, patient_index, text_on, values_on
from .catalogue import feature_catalogue
from .composite import composite_score
from .counts import absolute_count
from .lysis import lysis_summary
from .panel import Panel, load_panel
from .populations import GateTable
from .quality import DEFAULT_MIN_EVENTS, quality_columns, quality_frame
from .timepoints import CohortTables

__all__ = ["FeatureSet", "build_features", "derive_features"]


@dataclass(frozen=True, repr=False)
class FeatureSet(ResultDisplay):
    """Features of one timepoint with their provenance.

    Attributes
    ----------
    values : DataFrame
        Indexed by ``patient_id`` (every patient of the clinical table), one
        column per feature; NaN where not computable.
    quality : DataFrame
        One row per patient and feature: ``value``, ``method``, ``events`` (in
        the gate), ``poisson_cv`` (1/sqrt(events), plus 1/bead events for bead counts), ``low_events`` (events <
        ``min_events``), ``flags`` (text), ``excluded``.
    catalogue : DataFrame
        One row per feature (see :func:`feature_catalogue`).
    missing : DataFrame
        ``patient_id``, ``feature``, ``reason`` for every NaN of ``values``.
    methods : DataFrame
        Same shape as ``values``: how each value was obtained (``"dual"``,
        ``"bead"``, ``"frequency"``, ``"ratio"``, ``"background_subtracted"``, ...).
    standardisation : DataFrame
        Mean, SD, sign and source of every composite readout.
    timepoint : str
    panel : Panel
    min_events : int
    exclude_flagged : bool
    notes : tuple of str
        Plain-text notes shown with the summary (low-event values, readouts
        left out of a composite).
    """

    values: pd.DataFrame
    quality: pd.DataFrame
    catalogue: pd.DataFrame
    missing: pd.DataFrame
    methods: pd.DataFrame
    standardisation: pd.DataFrame
    timepoint: str
    panel: Panel
    min_events: int = DEFAULT_MIN_EVENTS
    exclude_flagged: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def excluded(self) -> pd.DataFrame:
        """The values set to NaN by ``exclude_flagged`` (patient_id, feature, reason)."""
        return self.missing.loc[self.missing["reason"].str.startswith("excluded:")].reset_index(drop=True)

    def summary(self) -> pd.DataFrame:
        """One row per feature: n, missing, median and quartiles, flagged and excluded, methods."""
        rows = []
        q = self.quality
        for _, cat in self.catalogue.iterrows():
            name = cat["feature"]
            col = self.values[name]
            obs = col.dropna()
            med, q1, q3 = (
                (obs.median(), obs.quantile(0.25), obs.quantile(0.75)) if len(obs) else (np.nan, np.nan, np.nan)
            )
            sub = q.loc[q["feature"] == name]
            counts = sub.loc[sub["method"] != "", "method"].value_counts()
            rows.append(
                {
                    "feature": name,
                    "kind": cat["kind"],
                    "unit": cat["unit"],
                    "n": int(col.notna().sum()),
                    "n_missing": int(col.isna().sum()),
                    "median": med,
                    "q1": q1,
                    "q3": q3,
                    "n_low_events": int(sub["low_events"].sum()),
                    "n_excluded": int(sub["excluded"].sum()),
                    "methods": ", ".join(f"{m} {n}" for m, n in counts.items()),
                }
            )
        return pd.DataFrame(rows).set_index("feature")

    def _title(self) -> str:
        return (
            f"FeatureSet: {self.values.shape[1]} features x {self.values.shape[0]} patients "
            f"(panel {self.panel.name!r}, timepoint {self.timepoint!r})"
        )

    def _notes(self) -> list[str]:
        notes = list(self.notes)
        notes.append(f"{len(self.missing)} missing value(s); reasons in `.missing`.")
        if self.exclude_flagged:
            notes.append(
                f"{len(self.excluded)} value(s) excluded for fewer than {self.min_events} events (see `.excluded`)."
            )
        return notes


def _ratio(table: GateTable, spec, patients, errors: str) -> Computed:
    idx = patient_index(patients)
    num_v, num_r, num_e, _ = table.fraction_on(spec["numerator"], ROOT, idx, errors=errors)
    den_v, den_r, den_e, _ = table.fraction_on(spec["denominator"], ROOT, idx, errors=errors)
    value = num_v / np.where(den_v != 0, den_v, np.nan)
    reason = np.where(num_r != "", num_r, den_r)
    reason = np.where((reason == "") & (den_v == 0), f"denominator population {spec['denominator']!r} is 0%", reason)
    events = np.minimum(num_e, den_e)  # NaN when either is
    return Computed.from_parts(idx, value, reason, "ratio", events)


def _primary(spec, gates, assays, clinical, patients, errors) -> Computed:
    k, o = spec.kind, spec.options
    if k in ("count", "frequency", "ratio"):
        if gates is None:
            return Computed.empty(patients, "no immunophenotype table given")
        if k == "count":
            return absolute_count(gates, clinical, o["path"], o["method"], patients=patients, errors=errors)
        if k == "ratio":
            return _ratio(gates, spec, patients, errors)
        idx = patient_index(patients)
        value, reason, events, _ = gates.fraction_on(o["path"], o["of"], idx, errors=errors)
        return Computed.from_parts(idx, value * 100.0, reason, "frequency", events)
    if assays is None:
        return Computed.empty(patients, "no function_assays table given")
    if k == "function":
        return assays.readout(patients, o["assay"], o["cell_type"], o["unit"], o["background"])
    if k == "lysis_auc":
        return lysis_summary(assays, patients, o["assay"], o["cell_type"], summary="auc")
    return lysis_summary(
        assays,
        patients,
        o["assay"],
        o["cell_type"],
        summary="lytic_units",
        percent=o["percent"],
        targets_per_well=o["targets_per_well"],
        per_effectors=o["per_effectors"],
    )


def _functional_count(spec, done: dict[str, Computed], patients) -> Computed:
    read, count = done[spec["readout"]], done[spec["count"]]
    idx = patient_index(patients)
    read_v, count_v = values_on(read.values, idx).astype(float), values_on(count.values, idx).astype(float)
    value = read_v / 100.0 * count_v
    reason = np.where(np.isnan(read_v), _prefixed(f"{spec['readout']} missing: ", read.reasons, idx), "")
    reason = np.where(
        (reason != "") | ~np.isnan(count_v), reason, _prefixed(f"{spec['count']} missing: ", count.reasons, idx)
    )
    events = values_on(count.events, idx).astype(float)
    return Computed.from_parts(idx, value, reason, text_on(count.method, idx), events, text_on(read.flags, idx))


def _prefixed(prefix: str, texts: pd.Series, idx: pd.Index) -> np.ndarray:
    return np.array([prefix + t for t in values_on(texts, idx)], dtype=object)


@check_params(
    timepoint=Instance(str, name="a timepoint name"),
    exclude_flagged=Instance(bool, name="True or False"),
    min_events=Interval(0, None),
    min_readouts=(Options(None), Interval(1, None, integer=True)),
    errors=Options("raise", "missing"),
    reference=(Options(None), Instance(pd.DataFrame, Mapping, name="a table or mapping of reference means and SDs")),
)
def build_features(
    cohort,
    panel=None,
    timepoint: str = "baseline",
    *,
    exclude_flagged: bool = False,
    min_events: int = DEFAULT_MIN_EVENTS,
    reference=None,
    min_readouts: int | None = None,
    errors: str = "raise",
) -> FeatureSet:
    """Compute every feature of ``panel`` at ``timepoint`` for every patient of the cohort.

    Parameters
    ----------
    cohort : Cohort or any object with ``clinical`` (indexed by ``patient_id``),
        ``immunophenotype``, ``function_assays`` (long DataFrames, possibly
        empty) and ``sources`` (table name -> file name); or a
        :class:`~immune_correlates.features.timepoints.CohortTables` of one, whose
        long tables are checked once for many timepoints.
    panel : Panel, mapping, path or None
        Feature panel (default: the CLL panel, see :func:`load_panel`).
    timepoint : str
        Timepoint of the long tables to use.
    exclude_flagged : bool
        Set values with fewer than ``min_events`` events in their gate to NaN
        (before ratios, functional counts and composites use them), record each
        in ``missing`` and warn with :class:`DataQualityWarning`.
    min_events : int
        Events below which a value is flagged (default 100: Poisson CV 10 %).
    reference : DataFrame or mapping, optional
        Reference mean/SD per composite readout; readouts without one are
        standardised within the cohort at this timepoint.
    min_readouts : int, optional
        Override every composite's ``min_readouts``.
    errors : {"raise", "missing"}
        A population whose parent gate is absent raises InputError, or (with
        ``"missing"``) is left missing with that reason.

    Returns
    -------
    FeatureSet

    Examples
    --------
    >>> fs = build_features(cohort)                      # doctest: +SKIP
    >>> fs.values[["cd4_per_ul", "t_function_score"]]    # doctest: +SKIP
    >>> fs.missing                                       # doctest: +SKIP
    """
    panel = load_panel(panel)
    tables = cohort if isinstance(cohort, CohortTables) else CohortTables(cohort)
    clinical = tables.clinical.copy()
    clinical.index = clinical.index.astype(str)
    patients = patient_index(list(clinical.index))
    gates, assays = tables.at(timepoint)
    done: dict[str, Computed] = {}
    quality: list[pd.DataFrame] = []
    standard: list[pd.DataFrame] = []
    excluded_any = 0
    for name, comp, std in _computed(panel, gates, assays, clinical, patients, errors, done, reference, min_readouts):
        rows, comp, n_ex = quality_columns(name, comp, min_events, exclude_flagged)
        quality.append(rows)
        standard += [] if std is None else [std]
        excluded_any += n_ex
        done[name] = comp
    if exclude_flagged and excluded_any:
        warn(
            f"build_features: excluded {excluded_any} value(s) with fewer than {min_events} "
            "events in the gate; they are listed in the FeatureSet's `excluded` table.",
            DataQualityWarning,
        )
    return _assemble(panel, done, patients, quality, standard, timepoint, min_events, exclude_flagged)


def _computed(panel, gates, assays, clinical, patients, errors, done, reference, min_readouts):
    """``(name, Computed, standardisation)`` of every feature in dependency order (primary, functional
    counts, composites); ``standardisation`` is a composite's table of means and SDs, else None.

    ``done`` holds the features finished so far (the caller adds each one, after its quality check,
    before the next is computed): functional counts and composites are built from them.
    """
    for spec in panel.features:
        if spec.kind not in ("functional_count", "composite"):
            yield spec.name, _primary(spec, gates, assays, clinical, patients, errors), None
    for spec in panel.of_kind("functional_count"):
        yield spec.name, _functional_count(spec, done, patients), None
    for spec in panel.of_kind("composite"):
        readouts = list(spec["readouts"])
        frame = pd.DataFrame({r: done[r].values for r in readouts})
        score, n_used, why, std = composite_score(
            frame,
            readouts,
            signs=dict.fromkeys(spec["inhibitory"], -1),
            reference=reference,
            min_readouts=spec["min_readouts"] if min_readouts is None else min_readouts,
        )
        method = "reference_z_mean" if (std["source"] == "reference").any() else "cohort_z_mean"
        flags = n_used.map(f"{{}} of {len(readouts)} readouts".format)
        comp = Computed.build(patients, score, why, method, flags=flags)
        yield spec.name, comp, std.reset_index().assign(composite=spec.name)


def _assemble(panel, done, patients, quality, standard, timepoint, min_events, exclude_flagged) -> FeatureSet:
    """The FeatureSet: values, methods, reasons for missing values, quality, standardisation and notes."""
    names = panel.names
    idx = pd.Index(patients, name="patient_id", dtype=object)
    values = pd.DataFrame({n: done[n].values for n in names}, index=idx)
    methods = pd.DataFrame({n: done[n].method for n in names}, index=idx)
    reasons = pd.DataFrame({n: done[n].reasons for n in names}, index=idx)
    long = reasons.stack().rename("reason").reset_index()
    long.columns = ["patient_id", "feature", "reason"]
    missing = long.loc[values.isna().stack().to_numpy()].reset_index(drop=True)
    std_cols = ["composite", "readout", "mean", "sd", "sign", "source", "n"]
    standardisation = pd.concat(standard, ignore_index=True)[std_cols] if standard else pd.DataFrame(columns=std_cols)
    quality_table = quality_frame(quality)
    notes = []
    n_low = int(quality_table["low_events"].sum())
    if n_low:
        notes.append(f"{n_low} value(s) from gates with fewer than {min_events:g} events (low_events in `.quality`).")
    if len(standardisation):
        bad = standardisation.loc[~(standardisation["sd"] > 0)]
        for comp, read in zip(bad["composite"], bad["readout"]):
            notes.append(f"{comp}: readout {read} left out (cannot be standardised: fewer than 2 patients or SD 0).")
    return FeatureSet(
        values=values,
        quality=quality_table,
        catalogue=feature_catalogue(panel),
        missing=missing,
        methods=methods,
        standardisation=standardisation,
        timepoint=str(timepoint),
        panel=panel,
        min_events=min_events,
        exclude_flagged=exclude_flagged,
        notes=tuple(notes),
    )


def derive_features(cohort, panel=None, timepoint: str = "baseline", **options) -> pd.DataFrame:
    """Immune features of every patient at ``timepoint``: ``build_features(...).values``.

    Parameters
    ----------
    cohort, panel, timepoint
        As :func:`build_features`.
    **options
        ``exclude_flagged``, ``min_events``, ``reference``, ``min_readouts``,
        ``errors`` (see :func:`build_features`).

    Returns
    -------
    DataFrame indexed by ``patient_id`` with one row for every patient of
    ``cohort.clinical`` and one column per feature (default panel: absolute
    counts such as ``cd3_per_ul``, ``cd4_per_ul``, ``cd8_per_ul``,
    ``nk_per_ul``; ``cd4_cd8_ratio``; function readouts; ``t_function_score``
    and ``nk_function_score``).  Use :func:`build_features` to see why values
    are missing and how each was counted.

    Examples
    --------
    >>> import immune_correlates as ic                      # doctest: +SKIP
    >>> ic.derive_features(ic.datasets.load_ofa_len())      # doctest: +SKIP
    """
    return build_features(cohort, panel, timepoint, **options).values
