"""Cell counts and sample tables checked, matched by ``sample_id`` and turned into a design.

Every problem is an :class:`~immune_correlates.errors.InputError` that names the sample, the
population and the value (and every offending cell, not only the first), so a user can fix
the export without guessing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from ...errors import InputError, MissingDataError, MissingDataWarning, warn
from ..regression.design_matrix import expand_covariates
from ..survival.kaplan_meier import group_levels

__all__ = ["sample_ids", "check_counts", "AbundanceDesign", "abundance_design", "log2_proportions"]

#: Pseudo-count added to every count before taking logs (as voom and propeller do): a zero
#: count stays finite and a population's log-proportion is defined in every sample.
PSEUDOCOUNT = 0.5


def sample_ids(table: pd.DataFrame, what: str, caller: str) -> pd.Index:
    """The ``sample_id`` of each row: a ``sample_id`` column, else the index; duplicates refused."""
    if not isinstance(table, pd.DataFrame):
        raise InputError(
            f"{caller}: {what} must be a pandas DataFrame indexed by sample_id, got {type(table).__name__}."
        )
    ids = pd.Index(table["sample_id"]) if "sample_id" in table.columns else table.index
    if ids.has_duplicates:
        dupes = sorted(map(str, ids[ids.duplicated()].unique()))
        raise InputError(
            f"{caller}: {what} lists these sample_id(s) more than once",
            column="sample_id",
            rows=[{"sample_id": d} for d in dupes],
            hint="Each sample must be one row; sum or remove the repeated rows.",
        )
    return pd.Index(ids, name="sample_id")


def check_counts(counts: pd.DataFrame, caller: str) -> tuple[pd.DataFrame, list[str]]:
    """Counts as a float frame indexed by sample_id (populations as columns) and the population names.

    Refuses text, negative, non-integer and infinite counts, naming sample, population and
    value.  Missing counts stay missing (the caller decides about those samples).
    """
    ids = sample_ids(counts, "counts", caller)
    frame = counts.drop(columns="sample_id") if "sample_id" in counts.columns else counts
    frame = frame.set_axis(ids, axis=0)
    if frame.shape[1] < 2:
        raise InputError(
            f"{caller}: counts must have one column per population (at least two); got {list(frame.columns)}."
        )
    populations = [str(c) for c in frame.columns]
    if len(set(populations)) < len(populations):
        raise InputError(f"{caller}: population names repeat in the counts' columns: {populations}.")
    numeric = all(pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t) for t in set(frame.dtypes))
    if numeric:  # one conversion for the whole panel; text only where a column needs it
        values = frame.to_numpy(dtype=float, na_value=np.nan)
        text = np.zeros(values.shape, dtype=bool)
    else:
        values = np.empty(frame.shape)
        text = np.zeros(values.shape, dtype=bool)
        for j, pop in enumerate(frame.columns):
            col = frame[pop]
            num = pd.to_numeric(col, errors="coerce") if not pd.api.types.is_numeric_dtype(col) else col
            values[:, j] = num.to_numpy(dtype=float, na_value=np.nan)
            text[:, j] = np.isnan(values[:, j]) & col.notna().to_numpy()
    with np.errstate(invalid="ignore"):
        problem = text | np.isinf(values) | (values < 0) | (np.isfinite(values) & (values != np.round(values)))
    bad = [
        {"sample_id": ids[i], "population": populations[j], "value": frame.iat[i, j]}
        for i, j in zip(*np.nonzero(problem))
    ]
    if bad:
        raise InputError(
            f"{caller}: cell counts must be whole numbers >= 0; these are not",
            rows=bad,
            hint="Export event counts (not percentages or concentrations), or leave a count empty if it was not measured.",
        )
    return pd.DataFrame(values, index=ids, columns=populations), populations


class AbundanceDesign(NamedTuple):
    """The matched data of a differential-abundance analysis."""

    counts: np.ndarray  # (n, G) counts of the samples used
    X: np.ndarray  # (n, p) design: intercept, group, covariates, patients
    names: list[str]  # the design's column names
    samples: pd.Index  # sample_id of each row
    levels: tuple  # (reference level, compared level)
    group: np.ndarray  # (n,) 0/1: in the compared level
    populations: list[str]
    excluded: pd.DataFrame  # sample_id, reason
    blocks: np.ndarray | None  # (n,) patient codes of a paired design


def _excluded(ids, reason: str) -> pd.DataFrame:
    return pd.DataFrame({"sample_id": list(ids), "reason": [reason] * len(ids)}, dtype=object)


def abundance_design(
    counts: pd.DataFrame,
    samples: pd.DataFrame,
    *,
    group: str,
    covariates: Sequence[str],
    paired: str | None,
    levels: Sequence | None,
    missing: str,
    caller: str,
) -> AbundanceDesign:
    """Check both tables, match them by sample_id and build the design matrix."""
    frame, populations = check_counts(counts, caller)
    sid = sample_ids(samples, "samples", caller)
    table = samples.drop(columns="sample_id") if "sample_id" in samples.columns else samples
    table = table.set_axis(sid, axis=0)
    unknown = [s for s in frame.index if s not in sid]
    if unknown:
        raise InputError(
            f"{caller}: these samples have counts but no row in the sample table",
            column="sample_id",
            rows=[{"sample_id": s} for s in unknown],
            hint="Add them to the sample table (with their group) or remove them from the counts; samples are "
            "matched by sample_id, not by position.",
        )
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    needed = [group, *covariates, *([paired] if paired else [])]
    absent = [c for c in needed if c not in table.columns]
    if absent:
        raise InputError(f"{caller}: the sample table has no column(s) {absent}; it has {list(table.columns)}.")
    excluded = [_excluded([s for s in sid if s not in frame.index], "no counts")]
    table = table.loc[frame.index]
    missing_counts = frame.isna().any(axis=1)
    if missing_counts.any():
        gone = frame.index[missing_counts]
        if missing == "raise":
            raise MissingDataError(
                f"{caller}: samples {list(gone)} have missing counts; missing='drop' leaves them out."
            )
        excluded.append(_excluded(gone, "missing counts"))
        frame, table = frame.loc[~missing_counts], table.loc[~missing_counts]
    na = table[needed].isna().to_numpy()
    if na.any():
        rows = np.flatnonzero(na.any(axis=1))
        reasons = ["missing " + ", ".join(c for c, gone in zip(needed, na[i]) if gone) for i in rows]
        gone = table.index[rows]
        listing = "; ".join(f"{s} ({r})" for s, r in zip(gone, reasons))
        if missing == "raise" or len(rows) == len(table):
            raise MissingDataError(f"{caller}: samples with missing values in the sample table: {listing}.")
        warn(f"{caller}: left out {len(rows)} sample(s) with missing values: {listing}.", MissingDataWarning)
        excluded.append(pd.DataFrame({"sample_id": list(gone), "reason": reasons}, dtype=object))
        frame, table = frame.drop(index=gone), table.drop(index=gone)
    chosen = _two_levels(table[group], levels, group, caller)
    if levels is not None:
        other = ~table[group].isin(chosen)
        if other.any():
            excluded.append(_excluded(table.index[other], f"{group} not in {list(chosen)}"))
            frame, table = frame.loc[~other], table.loc[~other]
    g = (table[group] == chosen[1]).to_numpy(dtype=float)
    _check_group_sizes(table, group, chosen, caller)
    _check_totals(frame, populations, caller)
    X, names, blocks = _design_matrix(table, group, chosen, covariates, paired, caller)
    out = (
        pd.concat([e for e in excluded if len(e)], ignore_index=True)
        if any(len(e) for e in excluded)
        else _excluded([], "")
    )
    return AbundanceDesign(frame.to_numpy(), X, names, frame.index, tuple(chosen), g, populations, out, blocks)


def _two_levels(series: pd.Series, levels, group: str, caller: str) -> tuple:
    present = group_levels(series)
    if levels is not None:
        levels = list(levels)
        if len(levels) != 2 or any(lv not in present for lv in levels):
            raise InputError(
                f"{caller}: levels= must name two levels of {group!r} present in the samples; got {levels}, "
                f"present: {present}."
            )
        return tuple(levels)
    if len(present) != 2:
        raise InputError(
            f"{caller}: {group!r} must have exactly two levels among the samples used; it has {present}. "
            "Pass levels=[reference, compared] to compare two of them.",
            column=group,
        )
    return tuple(present)


def _check_group_sizes(table, group, chosen, caller):
    for lv in chosen:
        members = table.index[table[group] == lv]
        if len(members) < 2:
            raise InputError(
                f"{caller}: group {lv!r} of {group!r} has {len(members)} sample(s); each group needs at least two "
                "to estimate the sample-to-sample variation",
                column=group,
                rows=[{"sample_id": s, "value": lv} for s in members],
            )


def _check_totals(frame: pd.DataFrame, populations, caller):
    lib = frame.sum(axis=1)
    if (lib == 0).any():
        raise InputError(
            f"{caller}: these samples have no cells in any population",
            rows=[{"sample_id": s, "total": 0} for s in frame.index[lib == 0]],
            hint="Remove the sample or check the export.",
        )
    tot = frame.sum(axis=0)
    zero = [p for p, t in zip(populations, tot) if t == 0]
    if zero:
        raise InputError(
            f"{caller}: these populations have no cells in any sample used, so their abundance cannot be compared",
            rows=[{"population": p, "total": 0} for p in zero],
            hint="Remove these columns from the counts (or merge them into a parent population).",
        )


def _design_matrix(table, group, chosen, covariates, paired, caller):
    data = table.copy()
    gname = f"{group}[{chosen[1]}]"
    data[gname] = (data[group] == chosen[1]).astype(float)
    terms = list(covariates) + ([paired] if paired else [])
    blocks = None
    if paired:
        data[paired] = data[paired].astype(str)
        blocks = pd.factorize(data[paired], sort=True)[0]
    coded, names = expand_covariates(data, terms, caller=caller) if terms else (data, [])
    names = [gname, *names]
    X = np.column_stack([np.ones(len(data)), coded[names].to_numpy(dtype=float)])
    names = ["Intercept", *names]
    rank = np.linalg.matrix_rank(X / np.linalg.norm(X, axis=0))
    if rank < X.shape[1]:
        _, _, vt = np.linalg.svd(X / np.linalg.norm(X, axis=0))
        involved = [names[j] for j in np.flatnonzero(np.any(np.abs(vt[rank:]) > 1e-8, axis=0))]
        raise InputError(
            f"{caller}: the design is not estimable: {involved} are confounded (for example a batch that "
            f"holds only one group, or a covariate constant within {group!r}). Remove one of them."
        )
    if X.shape[0] - X.shape[1] < 1:
        raise InputError(
            f"{caller}: {X.shape[0]} samples and {X.shape[1]} design columns leave no residual degrees of "
            "freedom to estimate the sample-to-sample variation; use fewer covariates or more samples."
        )
    return X, names, blocks


def log2_proportions(counts: np.ndarray) -> np.ndarray:
    """``log2((count + 0.5) / (total + 1))`` per sample and population (voom's log-CPM without the 10^6)."""
    lib = counts.sum(axis=1, keepdims=True)
    return np.log2((counts + PSEUDOCOUNT) / (lib + 2 * PSEUDOCOUNT))
