"""The report's methods section and key findings, generated from what ran.

:func:`run_analysis` records, in ``AnalysisResults.record``, the key of every
method that produced a number (read from the result tables: their ``test`` and
``method`` columns).  :func:`methods_section` turns exactly those keys into
paragraphs, each with its reference, so the text names the tests behind the
numbers and no others.  :func:`key_findings` words the main results as
associations in an exploratory analysis.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..features.labels import column_label
from ..stats.groups.table_one import CLINICAL_LABELS
from .formatting import format_estimate_ci, label, level_label, p_phrase, scale_words
from .monitoring import MONITORING_METHODS

__all__ = ["METHODS", "methods_section", "key_findings", "covariate_phrase"]

#: Method key -> (heading, text).  Texts may use ``{placeholders}`` filled by :func:`methods_section`.
METHODS: dict[str, tuple[str, str]] = {
    "clopper_pearson": (
        "Proportions",
        "Response rates and patient-level toxicity with exact Clopper-Pearson "
        "intervals (Clopper & Pearson, Biometrika 1934).",
    ),
    "clustered_ratio": (
        "Cycle-level toxicity",
        "The proportion of cycles with grade >= 3 neutropenia uses the "
        "ratio-estimator variance with patients as clusters, on the logit scale (Cochran, Sampling "
        "Techniques 1977, ch. 6).",
    ),
    "km_median": (
        "Median survival",
        "Kaplan-Meier estimates with Greenwood variance; the median and its interval "
        "as R's survfit with log-transformed pointwise intervals (Brookmeyer & Crowley, Biometrics 1982).",
    ),
    "km_survival": (
        "Survival at a landmark",
        "Kaplan-Meier survival probability with a log-transformed Greenwood interval (Kaplan & Meier, JASA 1958).",
    ),
    "fisher_exact": (
        "Fisher's exact test",
        "Categorical variables: Fisher's exact test on the full contingency "
        "table, as R's fisher.test (Fisher 1935; Freeman & Halton, Biometrika 1951).",
    ),
    "wilcoxon_exact": (
        "Wilcoxon rank-sum test (exact)",
        "Two groups, continuous variable, small untied samples: "
        "the exact Wilcoxon rank-sum distribution, as R's wilcox.test (Wilcoxon, Biometrics 1945).",
    ),
    "wilcoxon_normal": (
        "Wilcoxon rank-sum test (normal approximation)",
        "Two groups with ties or larger samples: "
        "the normal approximation with tie and continuity correction, as R's wilcox.test "
        "(Wilcoxon 1945; Mann & Whitney, Ann Math Stat 1947).",
    ),
    "kruskal_wallis": (
        "Kruskal-Wallis test",
        "More than two groups: the Kruskal-Wallis test with tie correction (Kruskal & Wallis, JASA 1952).",
    ),
    "jonckheere": (
        "Jonckheere-Terpstra trend test",
        "Trend across the ordered groups {levels} (Jonckheere, Biometrika 1954).",
    ),
    "hodges_lehmann": (
        "Hodges-Lehmann shift",
        "Difference {first} minus {second}: Hodges-Lehmann estimate (the median of all pairwise "
        "differences) with its interval (Hodges & Lehmann 1963; Bauer, JASA 1972), and the rank-biserial "
        "correlation 2W/(n1 n2) - 1 (Kerby 2014), both shown in the comparison table.",
    ),
    "smd": (
        "Standardized mean differences",
        "Table 1 gives absolute standardized differences: for continuous "
        "variables |mean difference| / sqrt of the average of the two group variances (Austin, Stat Med 2009); "
        "for categorical variables the multivariate form of Yang & Dalton (SAS Global Forum 2012); with more than "
        "two groups the mean of the pairwise values.",
    ),
    "log2_count": ("Transform of counts", "Absolute counts (cells/µL) were modelled as log2(x + 1)."),
    "log2_ratio": ("Transform of ratios", "Ratios (e.g. CD4/CD8) were modelled as log2(x)."),
    "per_sd": (
        "Per-SD scaling",
        "Each modelled feature was centred and divided by its standard deviation in the "
        "cohort, so effects are per SD of the (transformed) feature; each table row states its scale (the SDs are in the tables/*.csv files).",
    ),
    "composite": ("Composite scores", "{composites}"),
    "multiple_imputation": ("Multiple imputation", "{imputation}"),
    "complete_case": (
        "Missing data",
        "Complete-case analysis per model: a patient missing the outcome, a covariate "
        "or the feature is left out of that model only; every patient left out is listed with the "
        "step and reason in the exclusions table.",
    ),
    "covariates": ("Adjustment", "Every model was {adjusted}."),
    "firth_logistic": (
        "Firth logistic regression",
        "Logistic regression penalized by Jeffreys' prior (Firth, "
        "Biometrika 1993; Heinze & Schemper, Stat Med 2002), which gives finite estimates under "
        "separation, as R's logistf.",
    ),
    "ml_logistic": ("Logistic regression", "Maximum-likelihood logistic regression."),
    "ml_cox": (
        "Cox regression",
        "Cox proportional-hazards regression (Cox, JRSS-B 1972) with Efron's handling of "
        "ties (JASA 1977), as R's coxph.",
    ),
    "firth_cox": (
        "Firth Cox regression",
        "Cox regression penalized by Jeffreys' prior under monotone likelihood "
        "(Heinze & Schemper, Biometrics 2001), as R's coxphf.",
    ),
    "lr_test": (
        "Likelihood-ratio tests",
        "p-values of the model tables are likelihood-ratio tests of the "
        "feature's coefficient (penalized likelihood ratio for Firth fits).",
    ),
    "wald_test": (
        "Wald tests",
        "Some p-values are Wald tests (coefficient / standard error); their rows say so in the test column.",
    ),
    "profile_ci": (
        "Profile-likelihood intervals",
        "Confidence intervals invert the likelihood-ratio test "
        "(profile likelihood; penalized profile for Firth fits; Venzon & Moolgavkar, Appl Stat 1988).",
    ),
    "wald_ci": ("Wald intervals", "Confidence intervals are Wald intervals (estimate +/- z x standard error)."),
    "fdr_bh": (
        "Multiplicity: Benjamini-Hochberg",
        "q-values control the false discovery rate across the features "
        "of each table (Benjamini & Hochberg, JRSS-B 1995).",
    ),
    "holm": (
        "Multiplicity: Holm",
        "q-values are Holm-adjusted p-values across the features of each table (Holm, Scand J Stat 1979).",
    ),
    "bonferroni": (
        "Multiplicity: Bonferroni",
        "q-values are Bonferroni-adjusted p-values across the features of each table.",
    ),
    "none": ("Multiplicity", "p-values were not adjusted for multiplicity (q equals p)."),
    "differential_abundance": (
        "Differential abundance of cell populations",
        "Each population's share of a sample's cells was compared between {first} and {second} with a linear "
        "model of log2 proportions (a count of 0.5 added to every count) and empirical-Bayes moderated t-tests, "
        "which borrow strength across populations for the sample-to-sample variance and allow for the "
        "overdispersion of cell counts (Smyth, Stat Appl Genet Mol Biol 2004; as limma's lmFit and eBayes); "
        "ratios are of geometric-mean proportions, q-values Benjamini-Hochberg across populations.",
    ),
    "population_clr": (
        "Population abundance as a feature",
        "In the outcome models, a population's abundance is its centred log-ratio: log2 of its count (plus 0.5) "
        "minus the mean of the sample's log2 counts (Aitchison, The Statistical Analysis of Compositional Data, "
        "1986); effects are per doubling relative to the sample's typical population.",
    ),
    "permutation": (
        "Permutation p-values",
        "{n_perm} joint permutations of the outcome against all features (seed {seed}), (1 + b) / (1 + B).",
    ),
    "maxt": (
        "Westfall-Young maxT",
        "p (maxT): family-wise error rate adjusted p-values of the step-down maxT "
        "procedure over the same permutations (Westfall & Young, Resampling-Based Multiple Testing 1993).",
    ),
    "median_split": (
        "Median split",
        "{km_feature} was split at its median among patients with complete survival data (at or below / above).",
    ),
    "logrank": ("Log-rank test", "Log-rank test of the median split (Mantel, Cancer Chemother Rep 1966)."),
    "maxstat": (
        "Maximally selected cutpoint",
        "Maximally selected log-rank statistic with the Lausen & Schumacher "
        "(Biometrics 1992) corrected p-value, as R's maxstat.",
    ),
    "landmark": (
        "Landmark analysis",
        "Because response is only known after it happens, survival was not compared "
        "by response as if it were known at baseline (guarantee-time bias; Anderson, Cain & Gelber, J Clin "
        "Oncol 1983). Patients still event-free at the landmark were grouped by response by then, with "
        "time counted from the landmark (Firth Cox model), repeated at other landmarks.",
    ),
    "time_dependent_cox": (
        "Time-dependent Cox model",
        "Response entered a Cox model as a covariate switching from "
        "0 to 1 at the response date (counting-process rows, as R's tmerge and "
        "coxph(Surv(start, stop, event)); robust variance clustered by patient).",
    ),
    "mantel_byar": (
        "Mantel-Byar test",
        "Score (log-rank) test of the time-dependent response indicator (Mantel & Byar, JASA 1974).",
    ),
    **MONITORING_METHODS,
}


def _label(column: str) -> str:
    return CLINICAL_LABELS.get(column, column)


def covariate_phrase(covariates) -> str:
    """``"univariable"`` or ``"adjusted for del(17p) and Unmutated IGHV"``."""
    covs = [_label(c) for c in covariates]
    if not covs:
        return "univariable"
    return "adjusted for " + (covs[0] if len(covs) == 1 else ", ".join(covs[:-1]) + " and " + covs[-1])


def _composites(res) -> str:
    cat = res.tables.get("feature_catalogue")
    if cat is None or not len(cat):
        return ""
    used = set(res.features) | set(res.tables.get("screen_cr", pd.DataFrame(columns=["feature"]))["feature"])
    rows = cat[(cat["kind"] == "composite") & cat["feature"].isin(used)]
    parts = []
    for r in rows.itertuples():
        sources = [v.strip() for v in str(r.sources).split(",") if v.strip()]
        up = [label(v[1:]) for v in sources if v.startswith("+")]
        down = [label(v[1:]) for v in sources if v.startswith("-")]
        signs = f"{', '.join(up)}" + (f"; and, with reversed sign, {', '.join(down)}" if down else "")
        formula = str(r.formula).replace(">=", "\u2265")
        parts.append(f"{label(r.feature)}: the {formula}, of {signs}")
    return "; ".join(parts) + "." if parts else ""


def methods_section(res) -> list[dict]:
    """The methods paragraphs of a run: one per key of ``res.record``, in the order they ran.

    Returns
    -------
    list of dict
        ``key``, ``heading``, ``text``.
    """
    cfg = res.config
    levels = res.objects.get("compare_levels") or cfg.compare or ["first", "second"]
    all_levels = res.tables.get("all_groups")
    fill = {
        "levels": " < ".join(str(c[2:]) for c in all_levels.columns if c.startswith("n_"))
        if all_levels is not None
        else "",
        "first": level_label(cfg.group, levels[0]),
        "second": level_label(cfg.group, levels[1]),
        "composites": _composites(res),
        "adjusted": covariate_phrase(cfg.adjustment_terms),
        "n_perm": cfg.n_perm,
        "seed": cfg.seed,
        "km_feature": label(cfg.km_feature),
        "imputation": res.objects.get("imputation_text", ""),
    }
    out = []
    for key in res.record:
        heading, text = METHODS[key]
        out.append({"key": key, "heading": heading, "text": text.format(**fill)})
    return out


def _associations(table: pd.DataFrame, ratio: str, what: str, q_max: float) -> str:
    """The features associated with an endpoint at q < q_max, as sentences in words."""
    word = "odds" if ratio == "odds_ratio" else "hazard"
    name = ratio.replace("_", " ")
    hits = table[table["q_value"] < q_max].sort_values("p_value")
    if not len(hits):
        best = table.sort_values("p_value").iloc[0]
        return (
            f"No feature was associated with {what} at q < {q_max:g}; the strongest association was "
            f"{_finding(best, ratio, name)}."
        )
    parts = []
    for _, r in hits.iterrows():
        direction = "higher" if r[ratio] > 1 else "lower"
        parts.append(f"higher {label(r['feature'])} went with {direction} {word} ({_finding(r, ratio, name, False)})")
    return f"Associated with {what} at q < {q_max:g}: " + "; ".join(parts) + "."


def _finding(r, ratio: str, name: str, named: bool = True) -> str:
    per = scale_words(r.get("scale")) or "per unit"
    q = r.get("q_value", np.nan)
    pq = p_phrase(r["p_value"]) + (f", {p_phrase(q, 'q')}" if np.isfinite(q) else "")
    est = format_estimate_ci(r[ratio], r[ratio + "_ci_lower"], r[ratio + "_ci_upper"])
    value, _, interval = est.partition(" (")
    text = f"{name} {value} {per}, 95% CI {interval.rstrip(')')}; {pq}"
    return f"{label(r['feature'])}, {text}" if named else text


def _lower(column: str) -> str:
    text = column_label(column)
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def key_findings(res, q_max: float = 0.10) -> str:
    """The main results in words, worded as associations in an exploratory analysis: one paragraph per
    endpoint, separated by a blank line."""
    cfg = res.config
    t = res.tables
    n = res.n_patients
    sentences = [f"Exploratory analysis of {n} patients: associations, not evidence of prediction or causation."]
    # one paragraph per endpoint (blank line between them)
    if "logistic_cr" in t and len(t["logistic_cr"]):
        k = int(pd.to_numeric(res.frame[cfg.binary], errors="coerce").sum())
        sentences.append(
            f"{column_label(cfg.binary)} was reached by {k} of {n} patients ({covariate_phrase(cfg.adjustment_terms)} "
            "models). " + _associations(t["logistic_cr"], "odds_ratio", _lower(cfg.binary), q_max)
        )
    elif "logistic" in res.notes:
        sentences.append(f"{column_label(cfg.binary)}: {res.notes['logistic']}")
    if "cox_pfs" in t and len(t["cox_pfs"]):
        k = int(pd.to_numeric(res.frame[cfg.event], errors="coerce").sum())
        sentences.append(
            f"{column_label(cfg.duration)}: {k} events. "
            + _associations(t["cox_pfs"], "hazard_ratio", _lower(cfg.duration), q_max)
        )
    elif "cox" in res.notes:
        sentences.append(f"{column_label(cfg.duration)}: {res.notes['cox']}")
    for name, what in (("screen_cr", cfg.binary), ("screen_pfs", cfg.duration)):
        if name in t and "p_maxt" in t[name]:
            strong = t[name].loc[t[name]["p_maxt"] < 0.05, "feature"].map(label).tolist()
            listed = f": {'; '.join(strong)}" if strong else ""  # labels may hold commas
            sentences.append(
                f"Across the whole panel ({len(t[name])} features), {len(strong) or 'no'} "
                f"association{'s' if len(strong) != 1 else ''} with {_lower(what)} "
                f"kept a family-wise (Westfall-Young maxT) adjusted p below 0.05{listed}."
            )
    return "\n\n".join(sentences)
