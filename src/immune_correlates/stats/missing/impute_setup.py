"""The imputation model of :func:`~.impute.impute`: which columns, their kinds and codes, and each one's predictors.

What is set up before any chain runs: the columns that take part (``_default_columns``), each
column's kind (numeric, binary, categorical, or a survival duration entering as its Nelson-Aalen
cumulative hazard, :func:`nelson_aalen_at`) and method (``_variables``), survival outcomes paired
with their event columns (``_survival_pairs``), values encoded as numbers and codes and decoded
back (``_encode``, ``_decode``), and each target's predictors pruned as mice's ``remove.lindep``
(``_prune``), all gathered in the job the chains run on (``_setup``, ``_Job``).  The chains
themselves and the entry point live in :mod:`.impute`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pandas as pd

from ...errors import InputError, ParameterError

__all__ = ["nelson_aalen_at", "DURATION_SUFFIXES"]


#: Column endings that pair with ``<stem>_event`` as a survival outcome when ``survival=None``.
DURATION_SUFFIXES = ("_months", "_days", "_time", "_years")


_METHODS = {"numeric": "pmm", "binary": "logreg", "categorical": "polyreg"}


_ALLOWED = {"numeric": ("pmm",), "binary": ("logreg", "pmm"), "categorical": ("polyreg",)}


class _Var(NamedTuple):
    name: str
    kind: str  # numeric | binary | categorical | hazard (a survival duration as its Nelson-Aalen H)
    levels: tuple  # labels of codes 0..k-1 (binary, categorical)
    method: str


class _Job(NamedTuple):
    state: np.ndarray  # (n, v) values and codes, NaN where missing
    variables: tuple
    targets: tuple  # indices of the variables imputed, in visiting order
    predictors: tuple  # per target: indices of its predictor variables
    seeds: tuple
    n_iter: int
    donors: int


def nelson_aalen_at(time: np.ndarray, event: np.ndarray) -> np.ndarray:
    """Nelson-Aalen cumulative hazard ``H(T_i) = sum_{t <= T_i} d(t) / n(t)`` at each patient's own time.

    Examples
    --------
    >>> import numpy as np
    >>> nelson_aalen_at(np.array([1.0, 2.0, 2.0, 3.0]), np.array([1, 1, 0, 1])).round(4).tolist()
    [0.25, 0.5833, 0.5833, 1.5833]
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=float)
    uniq, inv = np.unique(time, return_inverse=True)
    deaths = np.bincount(inv, weights=event, minlength=len(uniq))
    at_risk = len(time) - np.searchsorted(np.sort(time), uniq, side="left")
    return np.cumsum(deaths / at_risk)[inv]


def _kind(series: pd.Series) -> tuple[str, tuple]:
    """``(kind, levels)`` of a column from its observed values."""
    obs = series.dropna()
    if isinstance(series.dtype, pd.CategoricalDtype):
        present = set(obs.unique())
        levels = tuple(c for c in series.cat.categories if c in present)
    elif pd.api.types.is_bool_dtype(series) or (len(obs) and all(isinstance(v, (bool, np.bool_)) for v in obs)):
        levels = (False, True)
    elif pd.api.types.is_numeric_dtype(series):
        vals = set(np.unique(obs.to_numpy(dtype=float)).tolist())
        return ("binary", (0.0, 1.0)) if vals == {0.0, 1.0} else ("numeric", ())
    else:
        levels = tuple(sorted(obs.astype(str).unique()))
    return ("binary" if len(levels) == 2 else "categorical"), levels


def _default_columns(data: pd.DataFrame) -> list[str]:
    """Every column that can take part: not the id, not dates, not identifier-like text."""
    out = []
    for c in data.columns:
        s = data[c]
        if c == "patient_id" or pd.api.types.is_datetime64_any_dtype(s):
            continue
        if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)) and not isinstance(
            s.dtype, pd.CategoricalDtype
        ):
            obs = s.dropna()
            if len(obs) > 2 and obs.nunique() == len(obs):  # every value different: an identifier
                continue
        out.append(c)
    return out


def _survival_pairs(data, columns, survival) -> list[tuple[str, str]]:
    if survival is not None:
        pairs = list(survival.items())
        for d, e in pairs:
            for col in (d, e):
                if col not in data.columns:
                    raise InputError(f"impute: survival column {col!r} is not in the data.", column=col)
                if data[col].isna().any():
                    ids = data.index[data[col].isna()]
                    raise InputError(
                        "impute: a survival outcome enters the imputation models as the event and the Nelson-Aalen "
                        "cumulative hazard, so it must be complete; these patients have no value",
                        column=col,
                        rows=[{"patient_id": i} for i in ids],
                        hint="Leave the outcome out of survival= (it is then imputed as an ordinary column) "
                        "or complete it.",
                    )
        return pairs
    pairs = []
    for e in columns:
        if not str(e).endswith("_event"):
            continue
        stem = str(e)[: -len("_event")]
        d = next((stem + s for s in DURATION_SUFFIXES if stem + s in columns), None)
        if d is not None and not data[d].isna().any() and not data[e].isna().any():
            pairs.append((d, e))
    return pairs


def _encode(series: pd.Series, kind: str, levels: tuple) -> np.ndarray:
    """Numbers as they are; binary and categorical values as codes ``0..k-1`` of ``levels``; NaN where missing."""
    if kind == "numeric":
        return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    key: Callable | None
    if levels == (False, True):
        key = bool
    elif levels == (0.0, 1.0):
        key = float
    elif isinstance(series.dtype, pd.CategoricalDtype):
        key = None
    else:
        key = str
    lookup = {lev: i for i, lev in enumerate(levels)}
    values = series.to_numpy(dtype=object)
    return np.array([np.nan if pd.isna(v) else lookup[key(v) if key else v] for v in values], dtype=float)


def _prune(state, target: int, candidates: list[int], variables) -> tuple[list[int], list[str]]:
    """Predictors of ``target`` minus those constant, or with |r| > 0.99 with it or an earlier predictor,
    among the rows where ``target`` is observed (mice's ``remove.lindep``, once, on the observed values)."""
    ry = ~np.isnan(state[:, target])
    kept: list[int] = []
    dropped: list[str] = []
    for j in candidates:
        x = state[ry, j]
        ok = ~np.isnan(x)
        if ok.sum() < 2 or np.ptp(x[ok]) == 0:
            dropped.append(f"{variables[j].name} (constant where {variables[target].name} is observed)")
            continue
        if variables[j].kind != "categorical":
            rivals = [target] + [k for k in kept if variables[k].kind != "categorical"]
            clash = None
            for k in rivals:
                z = state[ry, k]
                both = ok & ~np.isnan(z)
                if (
                    both.sum() > 2
                    and np.ptp(z[both]) > 0
                    and np.ptp(x[both]) > 0
                    and abs(np.corrcoef(x[both], z[both])[0, 1]) > 0.99
                ):
                    clash = variables[k].name
                    break
            if clash is not None:
                dropped.append(f"{variables[j].name} (|r| > 0.99 with {clash})")
                continue
        kept.append(j)
    return kept, dropped


def _variables(data, columns, pairs, methods) -> list[_Var]:
    durations = {d for d, _ in pairs}
    out = []
    for c in columns:
        s = data[c]
        if s.isna().all():
            raise InputError(
                f"impute: every value of {c!r} is missing, so nothing can be learnt about it",
                column=c,
                hint="Leave it out of columns= (and of the analysis).",
            )
        if c in durations:
            out.append(_Var(c, "hazard", (), ""))
            continue
        if pd.api.types.is_datetime64_any_dtype(s):
            raise InputError(
                "impute: dates cannot be imputed or used as predictors; convert them to numbers.", column=c
            )
        kind, levels = _kind(s)
        if kind != "numeric" and len(levels) < 2 and s.isna().any():
            raise InputError(
                f"impute: {c!r} has a single observed value ({levels[0]!r}), so its missing values cannot be "
                "learnt from the data",
                column=c,
                hint="Leave it out of columns= or fill it deliberately.",
            )
        if kind == "numeric" and s.isna().any() and s.dropna().nunique() < 2:
            raise InputError(
                f"impute: {c!r} has a single observed value, so its missing values cannot be learnt from the data",
                column=c,
                hint="Leave it out of columns= or fill it deliberately.",
            )
        method = methods.get(c, _METHODS[kind])
        if method not in _ALLOWED[kind]:
            raise ParameterError(
                f"impute: methods[{c!r}]={method!r} is not allowed; a {kind} column takes one of "
                f"{list(_ALLOWED[kind])}."
            )
        out.append(_Var(c, kind, levels, method))
    return out


def _setup(data, variables, pairs, predictors, ss, m, n_iter, donors):
    events = dict(pairs)
    cols = [
        nelson_aalen_at(
            pd.to_numeric(data[v.name]).to_numpy(float), pd.to_numeric(data[events[v.name]]).to_numpy(float)
        )
        if v.kind == "hazard"
        else _encode(data[v.name], v.kind, v.levels)
        for v in variables
    ]
    state = np.column_stack(cols) if cols else np.zeros((len(data), 0))
    names = [v.name for v in variables]
    targets = [j for j, v in enumerate(variables) if v.kind != "hazard" and np.isnan(state[:, j]).any()]
    notes, sets = [], []
    for t in targets:
        given = predictors.get(variables[t].name)
        if given is not None:
            unknown = [p for p in given if p not in names]
            if unknown:
                raise InputError(
                    f"impute: predictors of {variables[t].name!r} must be columns of the imputation model; "
                    f"{unknown} are not (add them to columns=)."
                )
            cand = [names.index(p) for p in given if p != variables[t].name]
        else:
            cand = [j for j in range(len(variables)) if j != t]
        kept, dropped = _prune(state, t, cand, variables)
        if dropped:
            notes.append(f"{variables[t].name}: predictors set aside: {', '.join(dropped)}")
        sets.append(tuple(kept))
    seeds = tuple(ss.spawn(m))
    return _Job(state, tuple(variables), tuple(targets), tuple(sets), seeds, n_iter, donors), notes


def _decode(values: np.ndarray, var: _Var) -> np.ndarray:
    if var.kind == "numeric":
        return values
    labels = np.array(var.levels, dtype=object)[values.astype(int)]
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in var.levels):
        return labels.astype(float)
    return labels
