"""The XML of a FlowJo 10 workspace: samples, their gate trees and FlowJo's stored counts.

:func:`read_samples` walks ``SampleList/Sample`` (see :mod:`.flowjo_workspace` for the
format and what is reported) and returns the tables the reader assembles; nothing is
guessed: a count FlowJo never computed is missing, never zero, and listed as a problem.
The XML is parsed with :mod:`defusedxml` (no entity expansion, no external entities).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError

__all__ = ["parse_workspace", "read_samples"]

_GATE_TAGS = {"Population": "population", "AndNode": "and", "OrNode": "or", "NotNode": "not"}

POPULATION_COLUMNS = [
    "sample",
    "gating_path",
    "gate",
    "parent_path",
    "node_type",
    "gate_type",
    "dependents",
    "event_count",
    "parent_count",
    "freq_of_parent",
]


def _count(text: str | None) -> float:
    """A stored count as a float; NaN when absent or never computed (-1)."""
    if text is None or str(text).strip() == "":
        return np.nan
    try:
        value = float(text)
    except ValueError:
        return np.nan
    return np.nan if value < 0 else value


def _gate_type(node) -> str:
    if node.tag != "Population":
        return "Boolean"
    gate = node.find("Gate")
    if gate is None or len(gate) == 0:
        return "unknown"
    return gate[0].tag.rsplit("}", 1)[-1]


def _walk(node, parent_path: str, parent_count: float, sample: str, rows: list, problems: list) -> None:
    subs = node.find("Subpopulations")
    if subs is None:
        return
    for child in subs:
        kind = _GATE_TAGS.get(child.tag)
        if kind is None:  # Statistic and other non-gate children
            continue
        name = child.get("name", "")
        path = f"{parent_path}/{name}" if parent_path else name
        raw = child.get("count")
        count = _count(raw)
        deps = child.find("Dependents")
        dependents = ";".join(d.get("name", "") for d in deps) if deps is not None else ""
        problem = None
        if "/" in name or name.strip() != name or name == "":
            problem = (
                "error",
                f"gate name {name!r} cannot be part of a gating path (it is empty, "
                "has a '/' or surrounding spaces): rename the gate in FlowJo",
            )
        elif name in (".", ".."):
            problems.append(
                {
                    "sample": sample,
                    "gating_path": path,
                    "severity": "note",
                    "problem": f"gate named {name!r}: kept as a literal name",
                }
            )
        if raw is None or str(raw).strip() == "":
            problem = problem or (
                "error",
                "no stored count: recompute the workspace in FlowJo or re-gate from the FCS file",
            )
        elif np.isnan(count):
            problem = problem or (
                "error",
                f"count={raw!r}: FlowJo never computed this gate; open "
                "the workspace in FlowJo and save it after the counts are "
                "computed, or re-gate from the FCS file",
            )
        elif count > parent_count:
            problem = (
                "error",
                f"{count:.0f} events stored, more than the {parent_count:.0f} of its "
                "parent: the stored counts are stale or inconsistent",
            )
        elif count == 0 and parent_count > 0:
            problems.append(
                {
                    "sample": sample,
                    "gating_path": path,
                    "severity": "check",
                    "about": "count",
                    "problem": "stored count is 0: FlowJo also stores 0 for a gate it did "
                    "not recompute after a change; confirm it (or re-gate from FCS)",
                }
            )
        if problem is not None:
            problems.append(
                {
                    "sample": sample,
                    "gating_path": path,
                    "severity": problem[0],
                    "problem": problem[1],
                    "about": "name" if "gate name" in problem[1] else "count",
                }
            )
        usable = problem is None
        freq = 100.0 * count / parent_count if usable and parent_count > 0 else np.nan
        rows.append(
            {
                "sample": sample,
                "gating_path": path,
                "gate": name,
                "parent_path": parent_path,
                "node_type": kind,
                "gate_type": _gate_type(child),
                "dependents": dependents,
                "event_count": count if usable else np.nan,
                "parent_count": parent_count,
                "freq_of_parent": freq,
            }
        )
        _walk(child, path, count if usable else np.nan, sample, rows, problems)


def _boolean_checks(pops: pd.DataFrame) -> list[dict]:
    """A NOT gate of a sibling must hold exactly the parent's events the sibling lacks."""
    out = []
    counts = pops.set_index(["sample", "gating_path"])["event_count"]
    nots = pops.loc[(pops["node_type"] == "not") & pops["event_count"].notna()]
    for row in nots.itertuples():
        deps = row.dependents.split(";") if row.dependents else []
        if len(deps) != 1 or deps[0].rsplit("/", 1)[0] != row.parent_path:
            continue
        operand = counts.get((row.sample, deps[0]), np.nan)
        expected = row.parent_count - operand
        if np.isfinite(expected) and row.event_count != expected:
            out.append(
                {
                    "sample": row.sample,
                    "gating_path": row.gating_path,
                    "severity": "check",
                    "about": "count",
                    "problem": f"NOT gate stores {row.event_count:.0f} events but its parent "
                    f"({row.parent_count:.0f}) minus {deps[0].rsplit('/', 1)[-1]!r} "
                    f"({operand:.0f}) is {expected:.0f}: stale counts?",
                }
            )
    return out


def parse_workspace(path: Path):
    from defusedxml import ElementTree as SafeET  # loaded when a workspace is read
    from defusedxml.common import DefusedXmlException

    try:
        return SafeET.parse(str(path)).getroot()
    except DefusedXmlException as exc:
        raise InputError(
            f"refused to parse: {exc}",
            source=path.name,
            hint="The workspace uses XML entities or DTDs, which FlowJo never writes; re-save it from FlowJo.",
        ) from exc
    except SafeET.ParseError as exc:
        raise InputError(
            f"not a readable FlowJo workspace (XML error: {exc})",
            source=path.name,
            hint="Pass the .wsp file FlowJo saved (File > Save).",
        ) from exc


def read_samples(root_el, source: str):
    """``(samples, populations, keywords, problems)`` of a parsed workspace (problems as a list of dicts)."""
    sample_rows: list[dict] = []
    rows: list[tuple] = []
    problems: list[dict] = []
    kw_rows: list[dict] = []
    seen: dict[str, int] = {}
    for sample_el in root_el.findall("SampleList/Sample"):
        node = sample_el.find("SampleNode")
        if node is None:
            continue
        name = node.get("name", "")
        dataset = sample_el.find("DataSet")
        uri = dataset.get("uri", "") if dataset is not None else ""
        sample_id = node.get("sampleID") or (dataset.get("sampleID") if dataset is not None else "")
        events = _count(node.get("count"))
        seen[name] = seen.get(name, 0) + 1
        label = name if seen[name] == 1 else f"{name} [{seen[name]}]"
        if seen[name] == 2:
            problems.append(
                {
                    "sample": name,
                    "gating_path": "",
                    "severity": "error",
                    "problem": "sample name occurs more than once in the workspace: "
                    "the later copies are listed as '<name> [2]', ... and not mapped",
                }
            )
        if np.isnan(events):
            problems.append(
                {
                    "sample": label,
                    "gating_path": "",
                    "severity": "error",
                    "problem": f"sample event count {node.get('count')!r} not stored",
                }
            )
        before = len(rows)
        _walk(node, "", events, label, rows, problems)
        if len(rows) == before:
            problems.append({"sample": label, "gating_path": "", "severity": "note", "problem": "sample has no gates"})
        keywords = sample_el.find("Keywords")
        if keywords is not None:
            kw_rows += [{"sample": label, "keyword": k.get("name", ""), "value": k.get("value", "")} for k in keywords]
        sample_rows.append(
            {
                "sample": label,
                "sample_id": sample_id,
                "events": events,
                "fcs_file": Path(uri.split(":", 1)[-1]).name if uri else "",
                "n_gates": len(rows) - before,
            }
        )
    if not sample_rows:
        raise InputError(
            "the workspace holds no samples",
            source=source,
            hint="Add the FCS files to the workspace in FlowJo and save it.",
        )
    samples = pd.DataFrame(sample_rows)
    pops = pd.DataFrame(rows, columns=POPULATION_COLUMNS)
    keywords = pd.DataFrame(kw_rows, columns=["sample", "keyword", "value"])
    # gates that some samples with gates lack (samples without any gate are reported above)
    gated = samples.loc[samples["n_gates"] > 0, "sample"]
    if len(gated) > 1:
        have = pops.groupby("gating_path")["sample"].agg(set)
        for gp, present in have.items():
            for s in gated:
                if s not in present:
                    problems.append(
                        {
                            "sample": s,
                            "gating_path": gp,
                            "severity": "check",
                            "problem": "gate present in other samples but not in this one",
                        }
                    )
    problems += _boolean_checks(pops)
    return samples, pops, keywords, problems
