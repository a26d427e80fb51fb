"""Intracellular cytokine / CD107a panels from Boolean subsets: positivity and polyfunctionality.

With ``k`` functions (CD107a, IFN-gamma, IL-2, TNF, ...) FlowJo's Boolean
combination gates split a parent population (CD4+ or CD8+ T cells, NK cells)
into ``2**k`` disjoint subsets such as ``CD107a+ IFNg+ IL2- TNFa-``.  From the
subset counts of a stimulated and an unstimulated (background) well of the same
sample this module computes:

* **per subset**: percent of the parent in each well, the background-subtracted
  percent ``max(stim - unstim, 0)`` and a one-sided Fisher exact test of
  ``[[n_stim, N_stim - n_stim], [n_unstim, N_unstim - n_unstim]]`` (stimulated
  more often positive than background), the positivity call used by the HVTN
  ICS assay (Horton et al. 2007);
* **per function**: the marginal percent positive in each well (the sum of the
  subsets positive for that function), in the ``function_assays`` layout, so
  the panels' background subtraction and composite scores use them unchanged;
* **polyfunctionality**: among responding cells (background-subtracted
  subsets making at least one function) the fraction ``F_j`` making exactly
  ``j`` functions, and the degree-weighted polyfunctionality index
  ``PI = sum_j F_j (j / k) ** q`` (Larsen et al. 2012, with ``F_0 = 0`` since
  responding cells make at least one function; ``q = 1`` by default).

References
----------
Horton H, et al. Optimization and validation of an 8-color intracellular
cytokine staining (ICS) assay to quantify antigen-specific T cells induced by
vaccination. J Immunol Methods 2007;323:39-54.
Larsen M, et al. Evaluating cellular polyfunctionality with a novel
polyfunctionality index. PLoS One 2012;7:e50194.
Roederer M, Nozzi JL, Nason MC. SPICE: exploration and analysis of
post-cytometric complex multivariate datasets. Cytometry A 2011;79:167-174.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import hypergeom

from .._params import ALPHA, POSITIVE, TEXT, Options, check_params
from .._results import ResultDisplay
from ..errors import InputError
from ..multiplicity import ADJUST_OPTIONS, adjust_pvalues

__all__ = ["IcsResult", "ics_functions", "parse_subset"]

_TOKEN = re.compile(r"([^\s,&/]+?)\s*([+-])(?=[\s,&/]|$)")
SAMPLE = ["patient_id", "timepoint", "cell_type"]


def parse_subset(name: str) -> dict[str, bool]:
    """The functions of a Boolean subset name, e.g. ``"CD107a+ IFNg- IL2-"``.

    Tokens are ``<marker>+`` or ``<marker>-`` separated by spaces, commas,
    ``&`` or ``/`` (FlowJo writes combination gates in several ways).

    Examples
    --------
    >>> parse_subset("CD107a+ , IFNg- , TNFa+")
    {'CD107a': True, 'IFNg': False, 'TNFa': True}
    """
    tokens = _TOKEN.findall(str(name))
    rest = _TOKEN.sub("", str(name)).strip(" ,&/")
    if not tokens or rest:
        raise ValueError(f"cannot read Boolean subset {name!r}: write it as e.g. 'CD107a+ IFNg- IL2-'")
    out: dict[str, bool] = {}
    for marker, sign in tokens:
        if marker in out:
            raise ValueError(f"Boolean subset {name!r} names {marker!r} twice")
        out[marker] = sign == "+"
    return out


@dataclass(frozen=True, eq=False, repr=False)
class IcsResult(ResultDisplay):
    """Result of :func:`ics_functions`.

    Attributes
    ----------
    functions : tuple of str
        The functions, in the order of the subset names.
    subsets : DataFrame
        One row per sample (``patient_id``, ``timepoint``, ``cell_type``) and
        subset: ``degree`` (functions made), events and parent events of each
        well, ``pct_stimulated``, ``pct_unstimulated``, ``pct_background_subtracted``,
        ``p_value`` (one-sided Fisher), ``q_value`` (adjusted within the sample)
        and ``positive``.
    polyfunctionality : DataFrame
        One row per sample: ``pct_responding`` (sum of background-subtracted
        subsets), ``fraction_1`` ... ``fraction_k``, ``polyfunctionality_index``,
        ``n_positive_subsets`` and ``positive`` (any subset positive).
    function_assays : DataFrame
        Marginal percent positive of every function and of ``any`` function in
        both wells, and the polyfunctionality index (unit ``index``), in the
        ``function_assays`` layout of :func:`immune_correlates.read_cohort`.
    alpha, adjust, q : float, str, float
        The positivity threshold, multiplicity adjustment and PI exponent used.
    """

    functions: tuple[str, ...]
    subsets: pd.DataFrame
    polyfunctionality: pd.DataFrame
    function_assays: pd.DataFrame
    alpha: float
    adjust: str | None
    q: float

    def summary(self) -> pd.DataFrame:
        return self.polyfunctionality

    def _title(self) -> str:
        return f"ICS Boolean subsets ({', '.join(self.functions)})"

    def _notes(self) -> list[str]:
        adj = f", {self.adjust}-adjusted within sample" if self.adjust else ""
        return [
            f"Positive: one-sided Fisher exact p < {self.alpha}{adj} (Horton et al. 2007); "
            f"polyfunctionality index with q = {self.q} (Larsen et al. 2012)."
        ]


def _validated(counts: pd.DataFrame, source: str | None) -> tuple[pd.DataFrame, tuple[str, ...]]:
    need = SAMPLE + ["condition", "subset", "count", "parent_count"]
    missing = [c for c in need if c not in counts.columns]
    if missing:
        raise InputError(f"Boolean subset table lacks column(s) {missing}", source=source, hint=f"It needs {need}.")
    frame = counts[need].copy()
    frame["condition"] = frame["condition"].astype(str).str.strip().str.lower()
    bad = ~frame["condition"].isin(["stimulated", "unstimulated"])
    if bad.any():
        raise InputError(
            "condition must be 'stimulated' or 'unstimulated'",
            source=source,
            column="condition",
            rows=frame.loc[bad, SAMPLE + ["condition"]].to_dict("records"),
        )
    for col in ("count", "parent_count"):
        num = pd.to_numeric(frame[col], errors="coerce")
        bad = num.isna() | (num < 0) | (num != np.floor(num))
        if bad.any():
            raise InputError(
                f"{col} must be a whole number of events >= 0",
                source=source,
                column=col,
                rows=frame.loc[bad, SAMPLE + ["condition", "subset", col]].to_dict("records"),
            )
        frame[col] = num.astype(float)
    parsed, rows = [], []
    for i, name in frame["subset"].items():
        try:
            parsed.append(parse_subset(name))
        except ValueError as exc:
            rows.append({**frame.loc[i, SAMPLE].to_dict(), "subset": name, "problem": str(exc)})
    if rows:
        raise InputError("unreadable Boolean subset name(s)", source=source, column="subset", rows=rows)
    functions = tuple(parsed[0])
    odd = [i for i, p in zip(frame.index, parsed) if tuple(p) != functions]
    if odd:
        raise InputError(
            f"every subset must name the same functions in the same order {functions}",
            source=source,
            column="subset",
            rows=frame.loc[odd, SAMPLE + ["subset"]].to_dict("records"),
        )
    signs = np.array([[p[f] for f in functions] for p in parsed], dtype=bool)
    frame["key"] = ["".join("+" if s else "-" for s in row) for row in signs]
    frame["degree"] = signs.sum(axis=1)
    keys = SAMPLE + ["condition"]
    dup = frame.duplicated(keys + ["key"], keep=False)
    if dup.any():
        raise InputError(
            "a Boolean subset occurs twice for one sample and condition",
            source=source,
            column="subset",
            rows=frame.loc[dup, keys + ["subset"]].to_dict("records"),
        )
    n_sub = frame.groupby(keys)["key"].transform("size")
    if (n_sub != 2 ** len(functions)).any():
        short = frame.loc[n_sub != 2 ** len(functions), keys].drop_duplicates()
        raise InputError(
            f"each sample and condition needs all {2 ** len(functions)} Boolean subsets of {len(functions)} functions",
            source=source,
            column="subset",
            rows=short.to_dict("records"),
            hint="Export every combination gate (FlowJo: Boolean gates > all combinations).",
        )
    sums = frame.groupby(keys).agg(
        total=("count", "sum"), parent=("parent_count", "first"), parents=("parent_count", "nunique")
    )
    bad = (sums["parents"] > 1) | (sums["total"] != sums["parent"])
    if bad.any():
        raise InputError(
            "Boolean subsets must partition their parent: their counts must add up to "
            "parent_count (one value per sample and condition)",
            source=source,
            column="count",
            rows=sums.loc[bad, ["total", "parent"]].reset_index().to_dict("records"),
        )
    both = frame.groupby(SAMPLE)["condition"].nunique()
    if (both < 2).any():
        raise InputError(
            "each sample needs a stimulated and an unstimulated well",
            source=source,
            column="condition",
            rows=both[both < 2].reset_index()[SAMPLE].to_dict("records"),
        )
    return frame, functions


def _fisher_greater(a, b, c, d) -> np.ndarray:
    """One-sided (greater) Fisher exact p of 2x2 tables [[a, b], [c, d]], vectorised.

    ``P(X >= a)`` for X hypergeometric with the table's margins, as R's
    ``fisher.test(alternative = "greater")``.
    """
    a, b, c, d = (np.asarray(v, dtype=float) for v in (a, b, c, d))
    return hypergeom.sf(a - 1, a + b + c + d, a + c, a + b)


@check_params(
    alpha=ALPHA,
    adjust=(Options(None), ADJUST_OPTIONS),
    q=POSITIVE,
    source=TEXT,
)
def ics_functions(
    counts: pd.DataFrame, *, alpha: float = 0.05, adjust: str | None = None, q: float = 1.0, source: str | None = None
) -> IcsResult:
    """Positivity, marginal function frequencies and polyfunctionality from Boolean subsets.

    Parameters
    ----------
    counts : DataFrame
        Long table, one row per sample, condition and Boolean subset:
        ``patient_id``, ``timepoint``, ``cell_type``, ``condition``
        (``stimulated``/``unstimulated``), ``subset`` (e.g. ``"CD107a+ IFNg- TNFa+"``;
        every row names the same functions in the same order), ``count``
        (events in the subset) and ``parent_count`` (events in the parent; the
        ``2**k`` subsets of a well must add up to it).
    alpha : float
        A subset is positive when its one-sided Fisher p (adjusted when
        ``adjust`` is given) is below ``alpha``.
    adjust : {None, "fdr_bh", "holm", "bonferroni"}
        Multiplicity adjustment across the ``2**k - 1`` non-null subsets of a sample.
    q : float
        Exponent of the polyfunctionality index (Larsen et al. 2012; q = 1
        weighs each function equally).
    source : str, optional
        File name for error messages.

    Returns
    -------
    IcsResult

    Examples
    --------
    >>> import pandas as pd
    >>> rows = [("P1", "baseline", "CD8 T", cond, f"IFNg{a} TNF{b}", n, 10000)
    ...         for cond, counts in [("stimulated", [60, 40, 100, 9800]),
    ...                              ("unstimulated", [2, 3, 5, 9990])]
    ...         for (a, b), n in zip([("+", "+"), ("+", "-"), ("-", "+"), ("-", "-")], counts)]
    >>> df = pd.DataFrame(rows, columns=["patient_id", "timepoint", "cell_type", "condition",
    ...                                  "subset", "count", "parent_count"])
    >>> res = ics_functions(df)
    >>> round(float(res.polyfunctionality["polyfunctionality_index"].iloc[0]), 4)
    0.6526
    """
    frame, functions = _validated(counts, source)
    k = len(functions)
    wide = frame.pivot_table(
        index=SAMPLE + ["key", "degree"], columns="condition", values=["count", "parent_count"], aggfunc="first"
    )
    wide.columns = [f"{a}_{b}" for a, b in wide.columns]
    wide = wide.reset_index()
    n, N = wide["count_stimulated"], wide["parent_count_stimulated"]
    u, U = wide["count_unstimulated"], wide["parent_count_unstimulated"]
    wide["pct_stimulated"] = 100 * n / N
    wide["pct_unstimulated"] = 100 * u / U
    wide["pct_background_subtracted"] = np.maximum(wide["pct_stimulated"] - wide["pct_unstimulated"], 0.0)
    wide["p_value"] = _fisher_greater(n, N - n, u, U - u)
    wide.loc[wide["degree"] == 0, ["p_value", "pct_background_subtracted"]] = np.nan
    wide["q_value"] = wide["p_value"]
    if adjust:
        for idx in wide.loc[wide["degree"] > 0].groupby(SAMPLE).groups.values():
            wide.loc[idx, "q_value"] = adjust_pvalues(wide.loc[idx, "p_value"].to_numpy(), method=adjust)
    wide["positive"] = (wide["q_value"] < alpha) & (wide["degree"] > 0)
    wide["subset"] = [" ".join(f"{f}{s}" for f, s in zip(functions, key)) for key in wide["key"]]
    subsets = wide[
        SAMPLE
        + [
            "subset",
            "degree",
            "count_stimulated",
            "parent_count_stimulated",
            "count_unstimulated",
            "parent_count_unstimulated",
            "pct_stimulated",
            "pct_unstimulated",
            "pct_background_subtracted",
            "p_value",
            "q_value",
            "positive",
        ]
    ]
    responding = wide.loc[wide["degree"] > 0]
    by_degree = responding.pivot_table(
        index=SAMPLE, columns="degree", values="pct_background_subtracted", aggfunc="sum"
    ).reindex(columns=range(1, k + 1), fill_value=0.0)
    total = by_degree.sum(axis=1)
    poly = pd.DataFrame({"pct_responding": total})
    for j in range(1, k + 1):
        poly[f"fraction_{j}"] = (by_degree[j] / total).where(total > 0)
    weights = (np.arange(1, k + 1) / k) ** q
    poly["polyfunctionality_index"] = (by_degree.to_numpy() @ weights) / total.where(total > 0)
    poly["n_positive_subsets"] = responding.groupby(SAMPLE)["positive"].sum().astype(int)
    poly["positive"] = poly["n_positive_subsets"] > 0
    poly = poly.reset_index()
    return IcsResult(
        functions=functions,
        subsets=subsets.reset_index(drop=True),
        polyfunctionality=poly,
        function_assays=_marginals(frame, functions, poly),
        alpha=alpha,
        adjust=adjust,
        q=q,
    )


def _marginals(frame: pd.DataFrame, functions: tuple[str, ...], poly: pd.DataFrame) -> pd.DataFrame:
    keys = SAMPLE + ["condition"]
    parent = frame.groupby(keys)["parent_count"].first()
    rows = []
    for i, name in enumerate(functions + ("any",)):
        mask = frame["degree"] > 0 if name == "any" else frame["key"].str[i] == "+"
        pct = 100 * frame.loc[mask].groupby(keys)["count"].sum().reindex(parent.index, fill_value=0) / parent
        rows.append(pct.rename("value").reset_index().assign(assay=name.lower(), unit="%"))
    pi = poly[SAMPLE].assign(
        condition="stimulated", assay="polyfunctionality", unit="index", value=poly["polyfunctionality_index"]
    )
    out = pd.concat(rows + [pi], ignore_index=True)
    return out[["patient_id", "timepoint", "assay", "cell_type", "condition", "value", "unit"]]
