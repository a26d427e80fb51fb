"""The self-contained HTML report.

Rendered by Jinja2 with autoescaping on: every value taken from the data
(patient ids, column names, feature names, notes) is escaped, so an id such as
``<script>`` is shown as text, and control, bidirectional and invisible
characters are shown as ``[U+202E]`` instead of reordering the page.  Figures
are embedded as base64 PNG.
"""

from __future__ import annotations

import base64
import math
import re

import jinja2
import numpy as np
import pandas as pd

from .._text import show_hidden

__all__ = ["render_report", "METHODS"]

METHODS = [
    ("Proportions", "Exact Clopper-Pearson intervals (Clopper & Pearson, Biometrika 1934)."),
    (
        "Survival curves",
        "Kaplan-Meier estimates with Greenwood variance and log-transformed pointwise intervals; "
        "median and its interval as R's survfit (Brookmeyer & Crowley, Biometrics 1982).",
    ),
    (
        "Group comparisons",
        "Wilcoxon rank-sum test, exact for small untied samples and otherwise the normal "
        "approximation with continuity correction (as R's wilcox.test); Hodges-Lehmann shift with its interval "
        "(Hodges & Lehmann 1963; Bauer, JASA 1972); rank-biserial correlation; Kruskal-Wallis test (JASA 1952) and "
        "Jonckheere-Terpstra trend test across the ordered groups NR < PR < CR (Biometrika 1954).",
    ),
    (
        "Complete remission",
        "Logistic regression penalized by Jeffreys' prior (Firth, Biometrika 1993; Heinze & "
        "Schemper, Stat Med 2002), which gives finite estimates under separation; profile penalized-likelihood "
        "intervals and likelihood-ratio p-values as R's logistf.",
    ),
    (
        "Progression-free survival",
        "Cox proportional-hazards regression (Cox 1972) with Efron's handling of ties "
        "(JASA 1977); Firth-penalized Cox under monotone likelihood (Heinze & Schemper, Biometrics 2001); log-rank "
        "test (Mantel 1966); maximally selected log-rank statistic with the Lausen & Schumacher (Biometrics 1992) "
        "corrected p-value (as R's maxstat).",
    ),
    (
        "Multiplicity",
        "Benjamini-Hochberg false discovery rate (JRSS-B 1995) or Holm (Scand J Stat 1979) adjustment across features.",
    ),
]

_TEMPLATE = jinja2.Template(
    """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 70rem;
       color: #1b1b1b; line-height: 1.45; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #ddd; padding: 0.2rem 0.5rem; text-align: right; }
th { background: #f3f3f3; vertical-align: bottom; white-space: normal; } td.text, th.text, th:first-child { text-align: left; }
td { white-space: nowrap; } td:first-child { white-space: normal; min-width: 8rem; max-width: 22rem; }
td.wrap { white-space: normal; min-width: 16rem; }
.caption { color: #333; font-size: 0.9rem; margin-bottom: 0.2rem; }
.footnote { color: #555; font-size: 0.8rem; margin: 0; }
figure { margin: 1rem 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
.scroll { overflow-x: auto; max-width: 100%; }
.note { color: #555; font-size: 0.9rem; } code { font-size: 0.85rem; }
</style></head><body>
<h1>{{ title }}</h1>
<p class="note">{{ subtitle }}</p>
{% for section in sections %}
<section>
<h2>{{ section.title }}</h2>
{% for paragraph in (section.text or "").split("\n\n") if paragraph %}<p>{{ paragraph }}</p>{% endfor %}
{% for table in section.tables %}
{% if table.caption %}<p class="caption">{{ table.caption }}</p>{% endif %}
<div class="scroll"><table><thead><tr>{% for c in table.columns %}<th{% if table.left[loop.index0] %} class="text"{% endif %}>{{ c }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in table.rows %}<tr>{% for cell, cls in row %}<td{% if cls %} class="{{ cls }}"{% endif %}>{{ cell }}</td>{% endfor %}</tr>{% endfor %}</tbody></table></div>
{% for note in table.footnotes %}<p class="footnote">{{ note }}</p>{% endfor %}
{% endfor %}
{% for fig in section.figures %}
<figure><img alt="{{ fig.caption }}" src="data:image/png;base64,{{ fig.data }}"><figcaption class="note">{{ fig.caption }}</figcaption></figure>
{% endfor %}
</section>
{% endfor %}
<h2>Methods</h2>
<dl>{% for name, text in methods %}<dt><strong>{{ name }}</strong></dt><dd>{{ text }}</dd>{% endfor %}</dl>
<h2>Provenance</h2>
<table><tbody>{% for key, value in provenance %}<tr><th>{{ key }}</th><td class="text"><code>{{ value }}</code></td></tr>{% endfor %}</tbody></table>
</body></html>
""",
    autoescape=True,
    finalize=lambda v: show_hidden(v) if isinstance(v, str) else v,
)


_NUMERIC = re.compile(r"^[<>\u2264\u2265\u2212-]?\d[\d.,]*(\s|$|[\u00b9\u00b2\u00b3\u2074-\u2079%])")


def _cell(v) -> tuple[str, str]:
    """A cell's text and its CSS class (numbers right-aligned; text left; long text wraps)."""
    if isinstance(v, (float, np.floating)):
        if math.isnan(v):
            return "", ""
        if math.isinf(v):
            return ("inf" if v > 0 else "-inf"), ""
        return (f"{v:.4g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.3e}"), ""
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return str(v), ""
    if v is None or v is pd.NA or v is pd.NaT:
        return "", ""
    text = str(v)
    if len(text) <= 32 and _NUMERIC.match(text):  # "0.013", "<0.001", "3.12 (1.25–10.7)": aligned as numbers
        return text, ""
    return text, "text wrap" if len(text) > 40 else "text"


def table_payload(frame: pd.DataFrame, caption: str = "", max_rows: int = 500, footnotes=()) -> dict:
    frame = frame.head(max_rows)
    rows = [[_cell(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    # one alignment per column: right when every cell is a number, else left (header too)
    left = [bool(rows) and any(cls.startswith("text") for text, cls in col if text) for col in zip(*rows)]
    rows = [[(text, (cls or "text") if is_left else cls) for (text, cls), is_left in zip(row, left)] for row in rows]
    return {
        "caption": caption,
        "columns": [str(c) for c in frame.columns],
        "rows": rows,
        "left": left or [False] * len(frame.columns),
        "footnotes": list(footnotes),
    }


def figure_payload(png: bytes, caption: str) -> dict:
    return {"data": base64.b64encode(png).decode("ascii"), "caption": caption}


def _payload(section: dict, figures: dict) -> dict:
    """A section of :mod:`.sections` ready for the template (tables as cells, figures as base64)."""
    tables = [
        t if "rows" in t else table_payload(t["frame"], t["caption"], footnotes=t.get("footnotes", ()))
        for t in section["tables"]
    ]
    figs = [f if isinstance(f, dict) else figure_payload(*figures[f]) for f in section["figures"]]
    return {**section, "tables": tables, "figures": figs}


def _input_text(record) -> str:
    """An input file as a reader checks it: its name and SHA-256 (each file of a table in several)."""
    records = record if isinstance(record, list) else [record]
    return "; ".join(
        f"{r['file']} (SHA-256 {r['sha256']})" if "file" in r else str(r.get("source", r)) for r in records
    )


def render_report(
    title: str, subtitle: str, sections: list[dict], provenance: dict, *, methods=None, figures=None
) -> str:
    """Render the report; ``sections`` are dicts of ``title``, ``text``, ``tables``, ``figures``.

    Tables are ``{"caption", "frame", "footnotes"}`` (or ready payloads of
    :func:`table_payload`); figures are names in ``figures`` (name -> ``(png bytes,
    caption)``) or payloads of :func:`figure_payload`.  ``methods`` is a list of
    ``(heading, text)`` (the run's own, see :func:`.methods.methods_section`);
    default the generic :data:`METHODS`.
    """
    sections = [_payload(s, figures or {}) for s in sections]
    flat = []
    for key, value in provenance.items():
        if key == "inputs" and isinstance(value, dict):
            flat.extend((f"input: {k}", _input_text(v)) for k, v in value.items())
        elif isinstance(value, dict):
            flat.extend((f"{key}.{k}", v) for k, v in value.items())
        else:
            flat.append((key, value))
    return _TEMPLATE.render(
        title=title,
        subtitle=subtitle,
        sections=sections,
        methods=METHODS if methods is None else methods,
        provenance=flat,
    )
