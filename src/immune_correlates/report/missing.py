"""The report's multiple-imputation analysis: ``[missing] method = "impute"`` in ``analysis.toml``.

Complete cases stay the default.  With ``method = "impute"`` the run imputes the modelled
features (on the scale they are modelled: log2 and per SD of the observed values), with the
binary endpoint, the survival endpoint (event and Nelson-Aalen cumulative hazard), the
adjustment covariates and any ``auxiliary`` columns in the imputation model; refits the
logistic and Cox model tables on every completed data set; pools them by Rubin's rules; and
shows the imputed estimates beside the complete-case ones (the sensitivity table), with the
imputation diagnostics.  The methods section says what was imputed, with ``m`` and the seed.

Pipeline step: :func:`imputed_models` (called from ``pipeline``); section: :func:`missing_section`
(listed in ``sections.SECTIONS``, so the HTML and the .docx show it); figures: :func:`missing_figures`.
Shown numbers go through the report's formatting helpers (:mod:`.formatting`).
"""

from __future__ import annotations

import pandas as pd

from ..features.labels import column_label
from ..stats.missing.impute import impute
from ..stats.screening.screen import screen
from .formatting import format_estimate_ci, format_number, format_p, label

__all__ = ["imputed_models", "sensitivity_table", "missing_section", "missing_figures"]

_RATIOS = {"logistic_cr": ("odds_ratio", "OR"), "cox_pfs": ("hazard_ratio", "HR")}


def sensitivity_table(complete: dict, imputed: dict, labels: dict, incomplete: dict) -> pd.DataFrame:
    """Complete-case and imputed estimates side by side, one row per endpoint and feature (full precision).

    ``complete`` and ``imputed`` map a model table's name (``"logistic_cr"``, ``"cox_pfs"``) to the
    complete-case and pooled screen tables; ``labels`` the table's name to the endpoint's words;
    ``incomplete`` the table's name to the set of the model's other columns (outcome, covariates)
    that had missing values: ``any_imputed`` says whether a model used an imputed value.
    """
    rows = []
    for key, pooled in imputed.items():
        if key not in complete:
            continue
        ratio = _RATIOS[key][0]
        cc = complete[key].set_index("feature")
        for _, r in pooled.iterrows():
            c = cc.loc[r["feature"]]
            rows.append(
                {
                    "endpoint": labels[key],
                    "feature": r["feature"],
                    "ratio": ratio,
                    "cc_estimate": c[ratio],
                    "cc_ci_lower": c[f"{ratio}_ci_lower"],
                    "cc_ci_upper": c[f"{ratio}_ci_upper"],
                    "cc_p_value": c["p_value"],
                    "cc_n": int(c["n"]),
                    "mi_estimate": r[ratio],
                    "mi_ci_lower": r[f"{ratio}_ci_lower"],
                    "mi_ci_upper": r[f"{ratio}_ci_upper"],
                    "mi_p_value": r["p_value"],
                    "mi_q_value": r["q_value"],
                    "mi_n": int(r["n"]),
                    "mi_df": r["df"],
                    "riv": r["riv"],
                    "fmi": r["fmi"],
                    "any_imputed": bool(incomplete[key]) or r["feature"] in incomplete["features"],
                }
            )
    return pd.DataFrame(rows)


def imputed_models(run, data: pd.DataFrame, covariates: list, kwargs: dict) -> None:
    """Impute ``data`` and refit the model tables on it (a step of :func:`.pipeline.run_analysis`).

    ``kwargs`` maps ``"logistic"`` and ``"cox"`` to the screen arguments of the complete-case
    tables (outcome or duration/event, model).  Adds the tables ``logistic_cr_imputed``,
    ``cox_pfs_imputed``, ``imputation`` (what was imputed) and ``missing_sensitivity``, the
    object ``imputed`` and the method record ``multiple_imputation``.
    """
    cfg = run.config
    extra = [c for c in cfg.auxiliary if c not in data.columns]
    if extra:
        data = data.join(run.frame[extra])
    ends = [cfg.binary, cfg.duration, cfg.event]
    columns = list(dict.fromkeys([*ends, *covariates, *run.features, *cfg.auxiliary]))
    seed = cfg.impute_seed if cfg.impute_seed is not None else cfg.seed
    imp = impute(
        data, cfg.impute_m, columns=columns, seed=seed, n_iter=cfg.impute_iter, survival={cfg.duration: cfg.event}
    )
    run.objects["imputed"] = imp
    run.tables["imputation"] = imp.summary()
    pooled, labels = {}, {}
    for family, key, endpoint in (("logistic", "logistic_cr", cfg.binary), ("cox", "cox_pfs", cfg.duration)):
        if key not in run.tables:  # the complete-case step could not be estimated: nothing to compare
            continue
        table = screen(imp, run.features, covariates=covariates, adjust=cfg.adjust, alpha=cfg.alpha, **kwargs[family])
        table.insert(1, "scale", table["feature"].map(run.scales))
        pooled[key], labels[key] = table, column_label(endpoint)
        run.tables[f"{key}_imputed"] = table
    gaps = set(imp.columns)
    incomplete = {
        "logistic_cr": gaps & {cfg.binary, *covariates},
        "cox_pfs": gaps & {cfg.duration, cfg.event, *covariates},
        "features": gaps,
    }
    run.tables["missing_sensitivity"] = sensitivity_table(run.tables, pooled, labels, incomplete)
    run.objects["imputation_text"] = (
        imp.describe()
        + " Imputation models: the binary and survival endpoints, the adjustment covariates and the modelled "
        "features"
        + (f", with auxiliary columns {', '.join(cfg.auxiliary)}" if cfg.auxiliary else "")
        + "; features imputed on the scale they are modelled (transformed and scaled with the observed values). "
        "Intervals and p-values of the pooled estimates are both from the Barnard-Rubin t (profile-likelihood "
        "intervals have no pooled form under Rubin's rules)."
    )
    run.add_record("multiple_imputation")


def _shown(table: pd.DataFrame, m: int, alpha: float) -> pd.DataFrame:
    """One endpoint's rows as read: feature, complete-case and imputed ratio (CI), p (q), N, FMI."""
    short = {"odds_ratio": "OR", "hazard_ratio": "HR"}[table["ratio"].iloc[0]]
    level = f"{100 * (1 - alpha):g}% CI"
    out = pd.DataFrame({"Feature": table["feature"].map(label).to_numpy()})
    for prefix, head in (("cc", "Complete cases"), ("mi", f"Imputed, m = {m}")):
        out[f"{head}: {short} ({level})"] = [
            format_estimate_ci(e, lo, hi)
            for e, lo, hi in table[[f"{prefix}_estimate", f"{prefix}_ci_lower", f"{prefix}_ci_upper"]].to_numpy(float)
        ]
        out[f"{head}: p"] = table[f"{prefix}_p_value"].map(format_p).to_numpy()
        if prefix == "mi":
            out[f"{head}: q"] = table["mi_q_value"].map(format_p).to_numpy()
        out[f"{head}: N"] = table[f"{prefix}_n"].to_numpy()
    # mice's FMI is 2 / (df + 3) even when no value of the model was imputed: say so in words
    out["FMI"] = [format_number(f) if used else "none missing" for used, f in zip(table["any_imputed"], table["fmi"])]
    return out


def _caption(endpoint: str, m: int, ci_words: str, alpha: float) -> str:
    level = f"{100 * (1 - alpha):g}%"
    return (
        f"{endpoint}: complete-case estimates (as in the model tables above: {ci_words}) beside the estimates "
        f"pooled over m = {m} imputed data sets (Rubin's rules: {level} CI and p both from the Barnard-Rubin t). "
        "FMI: fraction of missing information of the feature's coefficient; where no value of the model was "
        "missing the two columns differ only by that inference convention."
    )


def missing_section(res, *, ci_words: str) -> dict | None:
    """The report section "Missing data: multiple imputation" (``None`` without ``method = "impute"``).

    ``ci_words`` names the complete-case tables' interval and p-value method (the sections module
    reads it from their rows).
    """
    cfg = res.config
    if cfg.missing != "impute":
        return None
    title = "Missing data: multiple imputation"
    if "imputation" in res.notes:
        return {"title": title, "text": res.notes["imputation"], "tables": [], "figures": []}
    imp = res.objects["imputed"]
    summary = res.tables["imputation"]
    what = (
        "; ".join(f"{label(c)}: {n} of {len(imp.data)}" for c, n in zip(summary["column"], summary["n_missing"]))
        or "nothing (no value was missing)"
    )
    text = (
        f"Values missing (patients): {what}. The models of the sections above were refitted on {imp.m} data sets "
        "imputed by chained equations and pooled (see the methods); the tables set the pooled estimates beside the "
        "complete-case ones. Where the two differ, the complete-case estimate may be biased by who is missing "
        "(when the loss depends on the outcome or on other variables in the imputation model) or less precise."
    )
    sens = res.tables.get("missing_sensitivity")
    tables = []
    if sens is not None and len(sens):
        for endpoint, rows in sens.groupby("endpoint", sort=False):
            frame = _shown(rows.reset_index(drop=True), imp.m, cfg.alpha)
            tables.append({"caption": _caption(endpoint, imp.m, ci_words, cfg.alpha), "frame": frame, "footnotes": []})
    return {"title": title, "text": text, "tables": tables, "figures": ["imputed_values", "imputation_traces"]}


def missing_figures(res) -> dict:
    """Diagnostics of the imputation: observed against imputed values of the most-missing feature, traces."""
    from .. import plots

    imp = res.objects.get("imputed")
    if imp is None or not imp.columns:
        return {}
    counts = {c: len(v.rows) for c, v in imp.columns.items()}
    worst = max(counts, key=counts.get)
    ax = plots.observed_vs_imputed(imp, worst, label=f"{label(worst)} (modelled scale)")
    out = {
        "imputed_values": (
            ax.figure,
            f"{label(worst)} (the most often missing, on its modelled scale): observed values (left) and the "
            f"values imputed in each of the {imp.m} data sets.",
        )
    }
    shown = sorted(counts, key=counts.get, reverse=True)[:4]
    out["imputation_traces"] = (
        plots.imputation_traces(imp, shown),
        f"Convergence of the chained equations: mean and SD of the imputed values per iteration, one line per "
        f"chain ({imp.n_iter} iterations); chains that mix without trend have converged.",
    )
    return out
