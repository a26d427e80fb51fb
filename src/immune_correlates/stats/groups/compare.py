"""Feature-by-feature comparison of patient groups (e.g. responders vs non-responders)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..._missing import complete_cases
from ..._params import ALPHA, MISSING, SEQUENCE, Instance, Options, check_params
from ...errors import ImmuneCorrelatesError, InputError, MissingDataWarning, ParameterError, warn
from ...multiplicity import ADJUST_OPTIONS, adjust_pvalues
from ..survival.kaplan_meier import group_levels
from .proportions import fisher_exact
from .rank_tests import jonckheere_terpstra, kruskal_wallis, wilcoxon_rank_sum

__all__ = ["compare_groups"]

METHODS = ("auto", "wilcoxon", "fisher", "kruskal")


def _is_binary(values: np.ndarray) -> bool:
    return values.size > 0 and bool(np.isin(values, (0.0, 1.0)).all())


def _two_group_row(a: np.ndarray, b: np.ndarray, method: str, alpha: float) -> dict:
    row: dict = {}
    if method == "fisher":
        if not (_is_binary(a) and _is_binary(b)):
            raise ImmuneCorrelatesError(
                "compare_groups: method='fisher' needs 0/1 features; use method='auto' or 'wilcoxon'."
            )
        table = [[np.sum(a == 1), np.sum(a == 0)], [np.sum(b == 1), np.sum(b == 0)]]
        f = fisher_exact(table, alpha=alpha)
        row.update(
            test="fisher_exact",
            statistic=np.nan,
            p_value=f.pvalue,
            odds_ratio=f.odds_ratio,
            or_ci_lower=f.ci_lower,
            or_ci_upper=f.ci_upper,
        )
        return row
    if a.size == 0 or b.size == 0:
        row.update(test="wilcoxon_rank_sum", statistic=np.nan, p_value=np.nan)
        return row
    with np.errstate(invalid="ignore", divide="ignore"):
        w = wilcoxon_rank_sum(a, b, alpha=alpha)
    row.update(
        test="wilcoxon_exact" if w.exact else "wilcoxon_normal",
        statistic=w.statistic,
        p_value=w.pvalue,
        hodges_lehmann=w.estimate,
        hl_ci_lower=w.ci_lower,
        hl_ci_upper=w.ci_upper,
        rank_biserial=w.rank_biserial,
    )
    return row


@check_params(
    method=Options(*METHODS),
    adjust=ADJUST_OPTIONS,
    alpha=ALPHA,
    ordered=(Options(None), Instance(bool, name="True or False")),
    missing=MISSING,
    groups=SEQUENCE,
)
def compare_groups(
    data: pd.DataFrame,
    features: str | Sequence[str],
    group: str,
    *,
    groups: Sequence | None = None,
    method: str = "auto",
    adjust: str = "fdr_bh",
    alpha: float = 0.05,
    ordered: bool | None = None,
    missing: str = "drop",
) -> pd.DataFrame:
    """Compare each feature across patient groups with rank or exact tests.

    Parameters
    ----------
    data : DataFrame
        One row per patient (ids from ``patient_id`` or the index).
    features : str or sequence of str
        Numeric feature columns, one test each.
    group : str
        Group column (e.g. ``response_group`` or ``cr``).
    groups : sequence, optional
        Which groups to compare, in this order (e.g. ``["CR", "NR"]``); rows
        of other groups are left out.  Default: all groups, in category order
        if categorical, else sorted.
    method : {"auto", "wilcoxon", "fisher", "kruskal"}
        ``"auto"``: two groups get Fisher's exact test for 0/1 features and
        the Wilcoxon rank-sum test otherwise; more groups get Kruskal-Wallis.
    adjust : {"fdr_bh", "holm", "bonferroni", "none"}
        Adjustment across features, giving ``q_value`` (R ``p.adjust``).
    alpha : float
        One minus the level of the Hodges-Lehmann / odds-ratio intervals.
    ordered : bool, optional
        Also run the Jonckheere-Terpstra trend test (more than two groups);
        default: whether ``group`` is an ordered categorical.  The order is
        that of ``groups``.
    missing : {"drop", "raise"}
        Per feature, incomplete rows are left out (listed in ``excluded``;
        one :class:`MissingDataWarning` for the whole call) or refused.

    Returns
    -------
    DataFrame
        One row per feature: ``feature``, ``n_<g>``, ``median_<g>``,
        ``q1_<g>``, ``q3_<g>`` per group (labels as they are, e.g.
        ``median_CR``), ``test``, ``statistic`` (R's ``W`` for the first group,
        or Kruskal-Wallis ``H``; NaN for Fisher), ``p_value``, ``q_value``;
        two groups also ``hodges_lehmann``, ``hl_ci_lower``, ``hl_ci_upper``
        (first minus second group, as ``wilcox.test(x, y, conf.int=TRUE)``)
        and ``rank_biserial`` (``2W/(n1 n2) - 1``, positive when the first
        group tends to be larger), or ``odds_ratio``, ``or_ci_lower``,
        ``or_ci_upper`` (conditional MLE, first group versus second, for
        the feature being 1); more groups ``epsilon_squared`` (``H / (n - 1)``,
        the Kruskal-Wallis effect size); ordered groups also ``jt_statistic`` and
        ``jt_p_value``; and ``excluded``, the ids left out for this feature.

    Notes
    -----
    Wilcoxon (1945); Hodges & Lehmann (1963); Kruskal & Wallis (1952);
    Jonckheere (1954); Fisher (1935); Benjamini & Hochberg (1995).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"g": ["CR"] * 3 + ["NR"] * 3, "cd8": [5.0, 7, 9, 1, 2, 4]})
    >>> out = compare_groups(df, ["cd8"], "g", groups=["CR", "NR"])
    >>> out[["statistic", "p_value", "hodges_lehmann"]].iloc[0].tolist()
    [9.0, 0.1, 5.0]
    """
    caller = "compare_groups"
    features = [features] if isinstance(features, str) else list(features)
    if not features:
        raise InputError(f"{caller}: no features given.")
    base, excluded_group, levels = _groups(data, group, groups, missing, caller)
    if ordered is None:
        dt = data[group].dtype
        ordered = isinstance(dt, pd.CategoricalDtype) and bool(dt.ordered)
    codes = pd.Categorical(base[group].astype(object), categories=levels).codes
    rows, notes = [], []
    for feat in features:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MissingDataWarning)
            kept, excl = complete_cases(
                base.assign(_code=codes), [feat], missing=missing, numeric=[feat], caller=caller
            )
        values = pd.to_numeric(kept[feat]).to_numpy(dtype=float)
        samples = [values[kept["_code"].to_numpy() == k] for k in range(len(levels))]
        row = {"feature": feat, **_describe(levels, samples)}
        row.update(_test_row(values, samples, levels, method, alpha, ordered, caller))
        ids = excl["patient_id"].tolist()
        row["excluded"] = excluded_group["patient_id"].tolist() + ids
        if ids:
            notes.append(f"{feat}: {', '.join(map(str, ids))}")
        rows.append(row)
    out = pd.DataFrame(rows)
    out.insert(out.columns.get_loc("p_value") + 1, "q_value", adjust_pvalues(out["p_value"].to_numpy(), method=adjust))
    if len(excluded_group):
        notes.insert(0, f"{group}: {', '.join(map(str, excluded_group['patient_id']))}")
    if notes:
        warn(
            f"{caller}: left out patients with missing values (per feature): "
            + "; ".join(notes)
            + ". They are listed in the `excluded` column.",
            MissingDataWarning,
        )
    return out


def _groups(data, group, groups, missing, caller):
    """Rows with a group among those compared, the rows without a group, and the levels in order."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingDataWarning)
        base, excluded_group = complete_cases(data, [group], missing=missing, caller=caller)
    present = group_levels(base[group])
    levels = present if groups is None else list(groups)
    unknown = [g for g in levels if g not in set(base[group].unique())]
    if unknown:
        raise InputError(f"{caller}: group(s) {unknown} not found; present: {present}.", column=group)
    if len(levels) < 2:
        raise InputError(f"{caller}: need at least two groups, got {levels}.", column=group)
    return base[base[group].isin(levels)], excluded_group, levels


def _describe(levels, samples) -> dict:
    """``n_<group>``, then ``median_<group>``, ``q1_<group>``, ``q3_<group>`` of every group."""
    row = {f"n_{g}": s.size for g, s in zip(levels, samples)}
    for g, s in zip(levels, samples):
        q = np.percentile(s, [25, 50, 75]) if s.size else [np.nan] * 3
        row[f"median_{g}"], row[f"q1_{g}"], row[f"q3_{g}"] = q[1], q[0], q[2]
    return row


def _test_row(values, samples, levels, method, alpha, ordered, caller) -> dict:
    """The test of one feature: two groups (Wilcoxon or Fisher), more (Kruskal-Wallis, Jonckheere if ordered)."""
    use = method
    if method == "auto":
        use = ("fisher" if _is_binary(values) else "wilcoxon") if len(levels) == 2 else "kruskal"
    if use in ("wilcoxon", "fisher"):
        if len(levels) != 2:
            raise ParameterError(
                f"{caller}: method={use!r} compares two groups; got {levels}. Pass groups=[...] with two."
            )
        row = _two_group_row(samples[0], samples[1], use, alpha)
    else:
        nonempty = sum(s.size > 0 for s in samples)
        h, df, p = kruskal_wallis(samples) if nonempty >= 2 else (np.nan, np.nan, np.nan)
        n_used = sum(s.size for s in samples)
        # Effect size epsilon-squared = H / (n - 1) (Tomczak & Tomczak, Trends Sport Sci 2014).
        eps2 = h / (n_used - 1) if n_used > 1 else np.nan
        row = {"test": "kruskal_wallis", "statistic": h, "df": df, "p_value": p, "epsilon_squared": eps2}
    if ordered and len(levels) > 2:
        if sum(s.size > 0 for s in samples) >= 2:
            jt = jonckheere_terpstra(samples)
            row.update(jt_statistic=jt.statistic, jt_p_value=jt.pvalue, jt_exact=jt.exact)
        else:
            row.update(jt_statistic=np.nan, jt_p_value=np.nan, jt_exact=False)
    return row
