"""Table 1: baseline characteristics by group, with exact tests and standardized differences.

Laid out as R's gtsummary prints ``tbl_summary(by=) |> add_p()``: one row per
variable; a dichotomous variable (0/1, boolean, yes/no) is one row giving its
"1"/yes level, another categorical variable a row per level under its own.
Continuous variables read ``median [Q1, Q3]`` (quartiles as R's
``quantile(type = 2)``, one number of decimals per variable from its spread,
see :mod:`immune_correlates._numbers`) and are compared by the Wilcoxon
rank-sum test (two groups; exact when both groups are small and untied, as
R's ``wilcox.test``) or the Kruskal-Wallis test (more groups).  Categorical
variables read ``n (%)`` of the patients with a known value, and are compared
by Fisher's exact test on the full r x c table (as R's ``fisher.test``).
Group columns are named by meaning ("Non-responder", "Responder").
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import special

from ..._missing import row_ids
from ..._numbers import continuous_digits, quartiles, style_number, style_percent
from ..._params import (
    MAPPING,
    check_params,
)
from ...errors import ImmuneCorrelatesError, MissingDataWarning, warn
from ...features.labels import group_level_label
from .rank_tests import kruskal_wallis, wilcoxon_rank_sum

__all__ = [
    "table_one",
    "fisher_exact_rxc",
    "smd_continuous",
    "smd_categorical",
    "TABLE_ONE_CLINICAL",
    "CLINICAL_LABELS",
]

#: Clinical columns of the analysis frame shown in Table 1 by default, when present.
TABLE_ONE_CLINICAL = ("age", "sex", "del17p", "ighv_unmutated", "prior_therapies", "alc")

#: Labels for people of the clinical columns.
CLINICAL_LABELS = {
    "age": "Age, years",
    "sex": "Sex",
    "del17p": "del(17p)",
    "ighv_unmutated": "Unmutated IGHV",
    "prior_therapies": "Prior therapies",
    "alc": "ALC, 10\u2079/L",
}

_MAX_TABLES = 2_000_000


def fisher_exact_rxc(table) -> float:
    """Two-sided Fisher exact p-value of an r x c contingency table, as R's ``fisher.test``.

    Every table with the observed margins is enumerated; the p-value sums the
    (multivariate hypergeometric) probabilities of the tables no more probable
    than the observed one, with R's relative tolerance ``1 + 1e-7``.

    Parameters
    ----------
    table : array-like of non-negative integers, shape (r, c)

    Returns
    -------
    float

    Notes
    -----
    Fisher RA (1935) J R Stat Soc 98:39-82; Freeman GH, Halton JH (1951)
    Biometrika 38:141-149 (the r x c extension).  R uses the network
    algorithm of Mehta & Patel (1983); full enumeration gives the same sum
    and is fast for the small tables of a trial's Table 1.

    Examples
    --------
    >>> round(fisher_exact_rxc([[3, 1], [1, 3]]), 4)
    0.4857
    """
    t = np.asarray(table, dtype=float)
    if t.ndim != 2 or (t < 0).any() or not np.all(t == np.round(t)):
        raise ImmuneCorrelatesError(f"fisher_exact_rxc: need a 2-D table of counts, got {table!r}.")
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0].astype(int)
    if t.shape[0] < 2 or t.shape[1] < 2:
        return 1.0
    if t.shape[0] > t.shape[1]:
        t = t.T
    rows, cols = t.sum(axis=1), t.sum(axis=0)
    n = int(t.sum())
    const = special.gammaln(rows + 1).sum() + special.gammaln(cols + 1).sum() - special.gammaln(n + 1)
    lf = special.gammaln(np.arange(n + 2) + 1.0)  # log(k!)

    def logp(cells) -> float:
        return const - sum(lf[c] for c in cells)

    observed = logp(t.ravel())
    threshold = observed + math.log1p(1e-7)
    total, count = 0.0, 0

    def columns(j, remaining, acc):
        nonlocal total, count
        if j == len(cols) - 1:
            count += 1
            if count > _MAX_TABLES:
                raise ImmuneCorrelatesError("fisher_exact_rxc: the table has too many possible tables to enumerate.")
            lp = acc - sum(lf[v] for v in remaining)
            if lp <= threshold:
                total += math.exp(lp)
            return
        for split in _compositions(int(cols[j]), remaining):
            columns(j + 1, [a - b for a, b in zip(remaining, split)], acc - sum(lf[v] for v in split))

    columns(0, [int(v) for v in rows], const)
    return float(min(1.0, total))


def _compositions(total: int, caps: Sequence[int]):
    """Every way to write ``total`` as ``len(caps)`` non-negative parts, part i at most ``caps[i]``."""
    if len(caps) == 1:
        if total <= caps[0]:
            yield (total,)
        return
    rest = sum(caps[1:])
    for first in range(max(0, total - rest), min(caps[0], total) + 1):
        for tail in _compositions(total - first, caps[1:]):
            yield (first, *tail)


def smd_continuous(x, y) -> float:
    """Absolute standardized mean difference ``|mean(x) - mean(y)| / sqrt((var(x) + var(y)) / 2)``.

    Austin PC (2009) Stat Med 28:3083-3107 (sample variances, ``ddof=1``).

    Examples
    --------
    >>> round(smd_continuous([1.0, 2.0, 3.0], [2.0, 3.0, 4.0]), 3)
    1.0
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.size < 2 or y.size < 2:
        return np.nan
    pooled = math.sqrt((x.var(ddof=1) + y.var(ddof=1)) / 2)
    return float(abs(x.mean() - y.mean()) / pooled) if pooled > 0 else (0.0 if x.mean() == y.mean() else np.inf)


def smd_categorical(p, q) -> float:
    """Standardized difference of two vectors of category proportions (Yang & Dalton 2012).

    ``sqrt((p - q)' S^-1 (p - q))`` over the categories but the first, with
    ``S = (S_p + S_q) / 2`` and ``S_p[k, k] = p_k (1 - p_k)``,
    ``S_p[k, l] = -p_k p_l``; for two categories this is
    ``|p - q| / sqrt((p (1 - p) + q (1 - q)) / 2)`` (Austin 2009).

    Yang D, Dalton JE (2012) SAS Global Forum paper 335-2012.

    Examples
    --------
    >>> round(smd_categorical([0.5, 0.5], [0.25, 0.75]), 4)
    0.5345
    """
    p, q = np.asarray(p, dtype=float)[1:], np.asarray(q, dtype=float)[1:]
    d = p - q
    if not np.any(d):
        return 0.0
    s = (np.diag(p) - np.outer(p, p) + np.diag(q) - np.outer(q, q)) / 2
    keep = np.diag(s) > 0
    if not keep.all():
        return np.inf
    return float(np.sqrt(d @ np.linalg.solve(s, d)))


def _categorical(s: pd.Series) -> bool:
    if (
        isinstance(s.dtype, pd.CategoricalDtype)
        or s.dtype == bool
        or s.dtype == object
        or pd.api.types.is_string_dtype(s.dtype)
    ):
        return True
    values = set(pd.to_numeric(s, errors="coerce").dropna().unique().tolist())
    return bool(values) and values <= {0, 1}


#: Levels shown on a dichotomous variable's one row (gtsummary's ``value``: 1, TRUE, "yes").
_SHOWN_LEVEL = (1, True, "yes", "Yes", "YES")


def _dichotomous_level(levels: list):
    """The level shown on one row when the variable is dichotomous (0/1, bool, yes/no), else None."""
    if len(levels) > 2:
        return None
    as_set = {str(v).lower() for v in levels}
    if as_set <= {"0", "1", "0.0", "1.0", "true", "false"} or as_set <= {"yes", "no"}:
        return next((v for v in levels if v in _SHOWN_LEVEL or str(v).lower() in ("1", "1.0", "true", "yes")), None)
    return None


def _levels(s: pd.Series) -> list:
    if isinstance(s.dtype, pd.CategoricalDtype):
        return [c for c in s.cat.categories if (s == c).any()]
    return sorted(s.dropna().unique().tolist(), key=lambda v: (str(type(v)), v))


def _fmt_count(k: int, n: int) -> str:
    """``n (%)`` as gtsummary prints it: ``"8 (24%)"``, ``"1 (8.3%)"``."""
    return f"{k} ({style_percent(k / n)}%)" if n else "0 (-)"


def _level(v) -> str:
    return str(int(v)) if isinstance(v, (float, np.floating)) and float(v).is_integer() else str(v)


def _fmt_median(x: np.ndarray, digits: int) -> str:
    """``median [Q1, Q3]`` with one number of decimals for the whole row (gtsummary's rule)."""
    if not x.size:
        return "-"
    q1, med, q3 = quartiles(x)
    return f"{style_number(med, digits)} [{style_number(q1, digits)}, {style_number(q3, digits)}]"


def _mean_pairwise(values, fn) -> float:
    pairs = [fn(a, b) for a, b in itertools.combinations(values, 2)]
    return float(np.mean(pairs)) if pairs else np.nan


def _categorical_rows(var: str, s: pd.Series, head: dict, member, names) -> list[dict]:
    """A categorical variable: one row if dichotomous (its "1"/yes level), else a head row and one row per level."""
    levels = _levels(s)
    counts = np.array([[int(((s == lv).to_numpy() & m).sum()) for m in member] for lv in levels])
    totals = counts.sum(axis=0) if counts.size else np.zeros(len(member), dtype=int)
    props = [counts[:, j] / totals[j] if totals[j] else None for j in range(len(member))]
    head.update(
        kind="categorical",
        summary="n (%)",
        test="fisher_exact",
        statistic=np.nan,
        p_value=fisher_exact_rxc(counts) if counts.size else np.nan,
        smd=_mean_pairwise([p for p in props if p is not None], smd_categorical) if len(levels) > 1 else 0.0,
    )
    shown = _dichotomous_level(levels)
    if shown is not None:
        i = levels.index(shown)
        head.update(kind="dichotomous", level=_level(shown))
        for j, g in enumerate(names):
            head[g] = _fmt_count(int(counts[i, j]), int(totals[j]))
        head["overall"] = _fmt_count(int(counts[i].sum()), int(totals.sum()))
        return [head]
    rows = [head]
    for i, lv in enumerate(levels):
        row = {"variable": var, "level": _level(lv), "label": f"  {_level(lv)}", "kind": "categorical"}
        row["summary"] = "n (%)"
        for j, g in enumerate(names):
            row[g] = _fmt_count(int(counts[i, j]), int(totals[j]))
        row["overall"] = _fmt_count(int(counts[i].sum()), int(totals.sum()))
        rows.append(row)
    return rows


def _continuous_row(s: pd.Series, head: dict, member, names, known) -> dict:
    """A continuous variable: ``median [Q1, Q3]`` per group, Wilcoxon or Kruskal-Wallis, SMD."""
    x = pd.to_numeric(s, errors="coerce")
    samples = [x[m & known].to_numpy(dtype=float) for m in member]
    digits = continuous_digits(x[known].to_numpy(dtype=float))
    head.update(kind="continuous", summary="median [Q1, Q3]")
    for g, v in zip(names, samples):
        head[g] = _fmt_median(v, digits)
    head["overall"] = _fmt_median(x[known].to_numpy(dtype=float), digits)
    if len(names) == 2:
        if samples[0].size and samples[1].size:
            w = wilcoxon_rank_sum(samples[0], samples[1])
            head.update(
                test="wilcoxon_exact" if w.exact else "wilcoxon_normal", statistic=w.statistic, p_value=w.pvalue
            )
        else:
            head.update(test="wilcoxon_normal", statistic=np.nan, p_value=np.nan)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            h, _, p = kruskal_wallis([v for v in samples if v.size])
        head.update(test="kruskal_wallis", statistic=h, p_value=p)
    head["smd"] = _mean_pairwise([v for v in samples if v.size >= 2], smd_continuous)
    return head


def _group_names(group: str, groups: list) -> list[str]:
    """Column names of the groups by meaning ("Non-responder", "Responder"); text levels kept."""
    names = [group_level_label(group, g) for g in groups]
    return names if len(set(names)) == len(names) else [_level(g) for g in groups]


@check_params(
    labels=MAPPING,
)
def table_one(
    data: pd.DataFrame, group: str, variables: Sequence[str] | None = None, *, labels: dict | None = None
) -> pd.DataFrame:
    """Baseline characteristics by group: ``n (%)`` or ``median [Q1, Q3]``, missing counts, exact tests, SMD.

    Parameters
    ----------
    data : DataFrame
        One row per patient (ids from ``patient_id`` or the index), e.g.
        :func:`~immune_correlates.analysis_frame`.
    group : str
        Group column (``response_group``, ``responder``, ``cr``, ...); its
        levels in category order if categorical, else sorted.  Patients whose
        group is missing are left out (listed in a :class:`MissingDataWarning`).
    variables : sequence of str, optional
        Rows of the table; default the clinical columns present among
        ``age, sex, del17p, ighv_unmutated, prior_therapies, alc``.
    labels : dict, optional
        Column -> label for people (defaults for the clinical columns).

    Returns
    -------
    DataFrame
        One row per variable, and for a categorical variable of more than two
        levels one row per level under it: ``variable``, ``level`` (empty on a
        variable's own row; the level shown on a dichotomous variable's one
        row), ``label``, ``kind`` (``continuous`` / ``dichotomous`` /
        ``categorical``), ``summary`` (``median [Q1, Q3]`` or ``n (%)``), then
        one column per group, named by the group's meaning (``Responder`` for
        ``responder = 1``; text levels as they are), with its ``n (%)`` or
        ``median [Q1, Q3]`` (percentages of the patients of the group with a
        known value, rounded as gtsummary), ``overall``, ``n_missing`` (and
        ``missing_<group>`` per group), and on each variable's row ``test``
        (``fisher_exact``, ``wilcoxon_exact``, ``wilcoxon_normal`` or
        ``kruskal_wallis``), ``statistic`` (R's ``W`` or ``H``; NaN for Fisher),
        ``p_value`` and ``smd``.

        ``smd`` is the absolute standardized mean difference: for a continuous
        variable ``|mean_1 - mean_2| / sqrt((s_1^2 + s_2^2) / 2)`` (Austin 2009,
        on the values as given), for a categorical one the multivariate
        Mahalanobis form of Yang & Dalton (2012); with more than two groups the
        mean of the pairwise SMDs (as R's ``tableone``).

        ``attrs["group_n"]`` holds the number of patients of each group (and
        ``overall``), for headers such as "Responder, N = 24";
        ``attrs["group_levels"]`` maps each column to its level in ``group``.

    References
    ----------
    Austin PC (2009) Stat Med 28:3083-3107; Yang D, Dalton JE (2012) SAS Global
    Forum 335-2012; Fisher RA (1935); Wilcoxon F (1945); Kruskal WH, Wallis WA
    (1952) JASA 47:583-621.

    Examples
    --------
    >>> import immune_correlates as ic
    >>> frame = ic.analysis_frame(ic.datasets.load_ofa_len())
    >>> t1 = ic.table_one(frame, "responder")
    >>> t1[["variable", "level", "Non-responder", "Responder"]].iloc[[0, 4]].values.tolist()
    [['age', '', '63 [58, 73]', '63 [59, 71]'], ['del17p', '1', '4 (40%)', '7 (29%)']]
    >>> t1.attrs["group_n"]
    {'Non-responder': 10, 'Responder': 24, 'overall': 34}
    """
    if group not in data.columns:
        raise ImmuneCorrelatesError(
            f"table_one: group column {group!r} is not in the data; columns are {list(data.columns)}."
        )
    labels = {**CLINICAL_LABELS, **(labels or {})}
    if variables is None:
        variables = [v for v in TABLE_ONE_CLINICAL if v in data.columns]
    variables = [variables] if isinstance(variables, str) else list(variables)
    unknown = [v for v in variables if v not in data.columns]
    if unknown:
        raise ImmuneCorrelatesError(f"table_one: unknown variable(s) {unknown}; pass columns of the data.")
    ids = row_ids(data)
    lost = data[group].isna().to_numpy()
    if lost.any():
        warn(
            f"table_one: left out patients with missing {group}: {', '.join(map(str, ids[lost]))}.", MissingDataWarning
        )
    base = data.loc[~lost]
    groups = _levels(base[group])
    if len(groups) < 2:
        raise ImmuneCorrelatesError(f"table_one: need at least two groups in {group!r}, got {groups}.")
    member = [(base[group] == g).to_numpy() for g in groups]
    names = _group_names(group, groups)
    rows = []
    for var in variables:
        s = base[var]
        known = s.notna().to_numpy()
        head = {"variable": var, "level": "", "label": labels.get(var, var), "n_missing": int((~known).sum())}
        for g, m in zip(names, member):
            head[f"missing_{g}"] = int((~known & m).sum())
        if _categorical(s):
            rows += _categorical_rows(var, s, head, member, names)
        else:
            rows.append(_continuous_row(s, head, member, names, known))
    cols = [
        "variable",
        "level",
        "label",
        "kind",
        "summary",
        *names,
        "overall",
        "n_missing",
        *[f"missing_{g}" for g in names],
        "test",
        "statistic",
        "p_value",
        "smd",
    ]
    out = pd.DataFrame(rows).reindex(columns=cols)
    for c in ("n_missing", *[f"missing_{g}" for g in names]):
        out[c] = out[c].astype("Int64")
    for c in (*names, "overall", "test"):
        out[c] = out[c].fillna("")
    out.attrs["group_n"] = {**{g: int(m.sum()) for g, m in zip(names, member)}, "overall": int(len(base))}
    out.attrs["group_levels"] = dict(zip(names, [_level(g) for g in groups]))
    return out
