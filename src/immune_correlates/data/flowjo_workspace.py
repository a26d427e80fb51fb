"""Read a FlowJo 10 workspace (``.wsp``): every sample's gates with FlowJo's stored counts.

A FlowJo workspace is XML.  Each ``SampleList/Sample`` holds a ``SampleNode``
(``count`` = events in the FCS file) whose ``Subpopulations`` nest
``Population`` gates and Boolean gates (``AndNode``, ``OrNode``, ``NotNode``),
each carrying the event count FlowJo computed when the workspace was last
saved (``count="-1"``: never computed).  Group-level template gates
(``Groups/GroupNode``) are not read: their counts are not per-sample results.

Populations are named by their full gating path (``Time/Singlets/CD3+/CD4+``),
because the same gate name often occurs under several parents (``IFNg+`` under
``CD4+`` and under ``CD8+``).  ``freq_of_parent`` is ``100 x count / parent
count`` (for a top-level gate the parent is the whole sample).

Nothing is guessed: counts FlowJo never computed, children holding more events
than their parent, duplicate sample names, samples without gates, gates that
some samples lack and gate names that cannot be written as a path are listed in
:attr:`FlowJoWorkspace.problems`; affected values are missing, never zero.  A
stored count of 0 is kept but flagged for checking: FlowJo also stores 0 for a
gate it did not recompute after the gate was redrawn (re-gate from the FCS file
to be sure).

The XML is parsed with :mod:`defusedxml`, which refuses entity expansion and
external entities (a workspace is a file from outside).

References: FlowJo 10 workspace format (FlowJo LLC, "FlowJo workspace XML");
Spidlen et al. (2015) Cytometry A 87:683-687 (Gating-ML 2.0), whose gate
elements FlowJo embeds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .._params import PATH, TEXT, Options, check_params
from .._results import ResultDisplay
from ..errors import DataQualityWarning, InputError, warn
from ._wsp_xml import parse_workspace, read_samples
from .flowjo import read_sample_map
from .gating import ROOT, validate_immunophenotype

__all__ = ["FlowJoWorkspace", "read_flowjo_workspace"]

_SEVERITY_ORDER = {"error": 0, "check": 1, "note": 2}


@dataclass(frozen=True, eq=False, repr=False)
class FlowJoWorkspace(ResultDisplay):
    """What :func:`read_flowjo_workspace` read.

    Attributes
    ----------
    source : str
        The workspace file name.
    flowjo_version : str
        ``flowJoVersion`` of the workspace.
    samples : DataFrame
        One row per sample: ``sample`` (the SampleNode name, usually the FCS
        file name), ``sample_id``, ``events``, ``fcs_file``, ``n_gates``,
        ``patient_id`` and ``timepoint`` (when mapped).
    populations : DataFrame
        One row per sample and gate: ``sample``, ``gating_path``, ``gate``,
        ``parent_path``, ``node_type`` (population, and, or, not), ``gate_type``
        (RectangleGate, PolygonGate, EllipsoidGate, ...; Boolean for Boolean
        nodes), ``dependents`` (operand paths of Boolean gates), ``event_count``,
        ``parent_count`` and ``freq_of_parent`` (percent; missing where a count is).
    keywords : DataFrame
        The FCS keywords FlowJo copied into the workspace, long: ``sample``,
        ``keyword``, ``value``.
    problems : DataFrame
        ``sample``, ``gating_path``, ``severity`` (error, check, note) and
        ``problem``: everything that was not read as a plain number.
    immunophenotype : DataFrame or None
        The populations of mapped samples in the ``immunophenotype`` layout of
        :func:`immune_correlates.read_cohort` (``patient_id``, ``timepoint``,
        ``gating_path``, ``freq_of_parent``, ``event_count`` and bead columns);
        None when no sample could be mapped to a patient.
    concordance : DataFrame or None
        With ``fcs_dir=``: one row per sample and gate with ``gate_type``,
        ``stored_count`` (FlowJo's), ``recomputed_count``, ``difference``,
        ``relative_difference`` and ``status`` (``agree``; ``differs`` for a
        rectangle, quadrant or Boolean gate, which must agree exactly, so the
        workspace is stale; ``differs (binned gate)`` for polygons and
        ellipses, which FlowJo evaluates on binned display data; ``stored count
        missing``; ``not recomputed``).
    """

    source: str
    flowjo_version: str
    samples: pd.DataFrame
    populations: pd.DataFrame
    keywords: pd.DataFrame
    problems: pd.DataFrame
    immunophenotype: pd.DataFrame | None
    concordance: pd.DataFrame | None = None

    def summary(self) -> pd.DataFrame:
        """One row per sample: events, gates read, and problems by severity."""
        out = self.samples.set_index("sample").copy()
        counts = (
            self.problems.groupby(["sample", "severity"]).size().unstack(fill_value=0)
            if len(self.problems)
            else pd.DataFrame(index=out.index)
        )
        for sev in _SEVERITY_ORDER:
            out[f"{sev}s"] = counts[sev].reindex(out.index).fillna(0).astype(int) if sev in counts else 0
        return out.reset_index()

    def _title(self) -> str:
        return (
            f"FlowJo workspace {self.source} (FlowJo {self.flowjo_version}): {len(self.samples)} "
            f"sample(s), {len(self.populations)} gate count(s), {len(self.problems)} problem(s)"
        )

    def _notes(self) -> list[str]:
        return [f"{r.severity}: {r.sample} {r.gating_path}: {r.problem}" for r in self.problems.head(10).itertuples()]


def _map_samples(
    samples: pd.DataFrame,
    keywords: pd.DataFrame,
    source: str,
    *,
    sample_map,
    pattern,
    patient_keyword,
    timepoint_keyword,
    timepoint,
) -> pd.DataFrame:
    """Add patient_id / timepoint (and bead columns of a sample sheet) to the sample table."""
    out = samples.copy()
    out["patient_id"] = pd.Series(pd.NA, index=out.index, dtype=object)
    out["timepoint"] = pd.Series(timepoint if timepoint is not None else pd.NA, index=out.index, dtype=object)
    if sample_map is not None:
        mapping = read_sample_map(sample_map, source)
        for i, name in out["sample"].items():
            info = mapping.get(name) or mapping.get(Path(name).name)
            if info is None:
                continue
            out.at[i, "patient_id"] = str(info["patient_id"]).strip()
            out.at[i, "timepoint"] = str(info["timepoint"]).strip()
            for col in ("beads_per_tube", "sample_volume_ul"):
                if col in info and str(info[col]).strip() != "":
                    out.at[i, col] = float(info[col])
        return out
    if pattern is not None:
        regex = re.compile(pattern)
        if "patient_id" not in regex.groupindex:
            raise InputError(
                f"pattern {pattern!r} has no named group 'patient_id'",
                source=source,
                hint=r"Use e.g. r'(?P<patient_id>OL\d+)_(?P<timepoint>[A-Za-z0-9]+)'.",
            )
        for i, name in out["sample"].items():
            match = regex.search(name)
            if match:
                out.at[i, "patient_id"] = match.group("patient_id")
                if "timepoint" in regex.groupindex:
                    out.at[i, "timepoint"] = match.group("timepoint")
    if patient_keyword is not None or timepoint_keyword is not None:
        kw = keywords.assign(key=keywords["keyword"].str.upper())
        for col, key in (("patient_id", patient_keyword), ("timepoint", timepoint_keyword)):
            if key is None:
                continue
            values = kw.loc[kw["key"] == key.upper()].drop_duplicates("sample").set_index("sample")["value"]
            mapped = out["sample"].map(values)
            out[col] = mapped.where(mapped.notna(), out[col]).map(lambda v: v.strip() if isinstance(v, str) else v)
    return out


@check_params(
    pattern=TEXT,
    patient_keyword=TEXT,
    timepoint_keyword=TEXT,
    timepoint=TEXT,
    root=TEXT,
    bead_gate=TEXT,
    fcs_dir=PATH,
    on_problem=Options("warn", "raise"),
)
def read_flowjo_workspace(
    path,
    sample_map=None,
    *,
    pattern: str | None = None,
    patient_keyword: str | None = None,
    timepoint_keyword: str | None = None,
    timepoint: str | None = "baseline",
    root: str | None = None,
    bead_gate: str | None = None,
    fcs_dir=None,
    on_problem: str = "warn",
) -> FlowJoWorkspace:
    """Read every sample's gates and FlowJo's stored counts from a ``.wsp`` file (no FCS needed).

    Parameters
    ----------
    path : str or Path
        The FlowJo 10 workspace.
    sample_map : path, DataFrame or dict, optional
        Sample sheet: ``sample -> (patient_id, timepoint)``, or a table with
        ``sample``, ``patient_id``, ``timepoint`` (and optionally
        ``beads_per_tube``, ``sample_volume_ul``), as for :func:`read_flowjo`.
        ``sample`` is the sample's name in FlowJo (usually the FCS file name).
    pattern : str, optional
        Regular expression with named groups ``patient_id`` (and optionally
        ``timepoint``) searched in each sample name, e.g.
        ``r"(?P<patient_id>OL\\d+)_(?P<timepoint>BL|C3D1)"``.
    patient_keyword, timepoint_keyword : str, optional
        FCS keywords (stored in the workspace) holding the patient id and the
        timepoint, e.g. ``"PATIENT ID"``; they override ``pattern``.
    timepoint : str or None
        Timepoint of samples whose timepoint is not given otherwise.
    root : str, optional
        Gating path, in the workspace, of the gate that plays the lymphocyte
        gate of the panels (e.g. ``"Time/Singlets/Live/Lymphocytes"``): in
        :attr:`FlowJoWorkspace.immunophenotype` it becomes ``Lymphocytes`` and
        only gates at or under it are kept.  None keeps full paths.
    bead_gate : str, optional
        Workspace gating path of the counting-bead gate; its count becomes
        ``bead_events`` of every row of the sample (single-platform counts).
    fcs_dir : str or Path, optional
        Folder with the workspace's FCS files: every gate is recomputed from
        the events with the workspace's gates, transforms and compensation
        (optional extra ``immune_correlates[flow]``, FlowKit), the counts used
        are the recomputed ones, and :attr:`FlowJoWorkspace.concordance`
        compares them with FlowJo's stored counts.
    on_problem : {"warn", "raise"}
        What to do with error-severity problems (never-computed counts,
        impossible counts, duplicate samples, unusable gate names): warn
        (:class:`DataQualityWarning`; the values are missing) or raise
        :class:`InputError` listing every one.

    Returns
    -------
    FlowJoWorkspace

    Raises
    ------
    InputError
        For a file that is not a FlowJo workspace, XML with entities,
        ``on_problem="raise"`` with problems, or two samples mapped to the same
        patient and timepoint.

    Examples
    --------
    >>> ws = read_flowjo_workspace(
    ...     "../shared/data/flowkit/data/8_color_data_set/8_color_ICS.wsp")   # doctest: +SKIP
    >>> ws.populations.query("gating_path.str.endswith('CD4+/IFNg+')")    # doctest: +SKIP
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("FlowJo workspace not found", source=str(path), hint="Pass the path of the .wsp file.")
    source = path.name
    root_el = parse_workspace(path)
    if root_el.tag != "Workspace" or root_el.find("SampleList") is None:
        raise InputError(
            f"not a FlowJo workspace (root element {root_el.tag!r}, no SampleList)",
            source=source,
            hint="Pass the .wsp file FlowJo 10 saved.",
        )
    samples, pops, keywords, problems = read_samples(root_el, source)
    concordance = None
    if fcs_dir is not None:
        from .regate import recompute_workspace  # optional extra: FlowKit only when asked for

        pops, concordance, problems = recompute_workspace(path, fcs_dir, samples, pops, problems)
    mapping = {"pattern": pattern, "patient_keyword": patient_keyword, "timepoint_keyword": timepoint_keyword}
    samples = _map_samples(samples, keywords, source, sample_map=sample_map, timepoint=timepoint, **mapping)
    if sample_map is not None or pattern is not None or patient_keyword is not None:
        problems += _unmapped(samples)
    problems_df = _problem_table(problems)
    immuno = _immunophenotype(samples, pops, source, root=root, bead_gate=bead_gate)
    _report_errors(problems_df, source, on_problem)
    return FlowJoWorkspace(
        source=source,
        flowjo_version=root_el.get("flowJoVersion", ""),
        samples=samples,
        populations=pops,
        keywords=keywords,
        problems=problems_df,
        immunophenotype=immuno,
        concordance=concordance,
    )


def _unmapped(samples: pd.DataFrame) -> list[dict]:
    """A problem per sample that the sample map, pattern or keywords did not map to a patient."""
    return [
        {
            "sample": s,
            "gating_path": "",
            "severity": "check",
            "problem": "sample not mapped to a patient (not in the sample map, "
            "no pattern match or keyword): left out of immunophenotype",
        }
        for s in samples.loc[samples["patient_id"].isna(), "sample"]
    ]


def _problem_table(problems: list[dict]) -> pd.DataFrame:
    """Problems by severity (errors first), then sample and gating path."""
    table = pd.DataFrame(problems, columns=["sample", "gating_path", "severity", "problem"])
    if not len(table):
        return table
    return (
        table.assign(_o=table["severity"].map(_SEVERITY_ORDER))
        .sort_values(["_o", "sample", "gating_path"], kind="stable")
        .drop(columns="_o")
        .reset_index(drop=True)
    )


def _report_errors(problems: pd.DataFrame, source: str, on_problem: str) -> None:
    """Error-severity problems: refused (``on_problem="raise"``) or warned about (the values are missing)."""
    errors = problems.loc[problems["severity"] == "error"]
    if not len(errors):
        return
    rows = errors[["sample", "gating_path", "problem"]].to_dict("records")
    if on_problem == "raise":
        raise InputError(
            f"{len(errors)} gate count(s) cannot be used",
            source=source,
            rows=rows,
            hint="See FlowJoWorkspace.problems (on_problem='warn') for the full list; the affected values are missing.",
        )
    warn(
        f"{source}: {len(errors)} gate count(s) cannot be used and are missing "
        f"(first: {rows[0]['sample']} {rows[0]['gating_path']!r}: {rows[0]['problem']}); see .problems",
        DataQualityWarning,
    )


def _immunophenotype(
    samples: pd.DataFrame, pops: pd.DataFrame, source: str, *, root: str | None, bead_gate: str | None
) -> pd.DataFrame | None:
    mapped = samples.loc[samples["patient_id"].notna()]
    if mapped.empty:
        return None
    dup = mapped.duplicated(["patient_id", "timepoint"], keep=False)
    if dup.any():
        raise InputError(
            "two samples are mapped to the same patient and timepoint",
            source=source,
            column="sample",
            rows=mapped.loc[dup, ["sample", "patient_id", "timepoint"]].to_dict("records"),
            hint="Fix the sample sheet, pattern or keywords so each sample has its own patient and timepoint.",
        )
    long = pops.merge(mapped, on="sample", how="inner", suffixes=("", "_sample"))
    beads = None
    if bead_gate is not None:
        beads = long.loc[long["gating_path"] == bead_gate].set_index("sample")["event_count"]
        long = long.loc[long["gating_path"] != bead_gate]
    if root is not None:
        root = root.strip("/")
        inside = (long["gating_path"] == root) | long["gating_path"].str.startswith(root + "/")
        long = long.loc[inside].copy()
        long["gating_path"] = ROOT + long["gating_path"].str.slice(len(root))
    cols = ["patient_id", "timepoint", "gating_path", "freq_of_parent", "event_count"]
    out = long[cols].copy()
    if beads is not None:
        out["bead_events"] = long["sample"].map(beads).to_numpy()
    for col in ("beads_per_tube", "sample_volume_ul"):
        if col in long.columns:
            out[col] = long[col].to_numpy()
    out = out.reset_index(drop=True)
    return validate_immunophenotype(out, source=source)
