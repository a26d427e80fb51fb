"""Re-gate FCS files with a workspace's (or a Gating-ML file's) gates.

Needs the optional extra ``immune_correlates[flow]`` (FlowKit, BSD-3, which
applies Gating-ML 2.0 gates, FlowJo transforms and compensation to FCS
events; White et al. 2021).  :func:`read_flowjo_workspace` with ``fcs_dir=``
uses it to compare FlowJo's stored counts with recomputed ones.

References
----------
White S, Quinn J, Enzor J, et al. FlowKit: a Python toolkit for integrated
manual and automated cytometry analysis workflows. Front Immunol 2021;12:768541.
Spidlen J, et al. Gating-ML 2.0. Cytometry A 2015;87:683-687.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError

__all__ = ["boolean_subset_counts", "gatingml_membership", "recompute_counts", "recompute_workspace"]


def _flowkit():
    try:
        import flowkit
    except ImportError as exc:
        raise ImportError("re-gating from FCS files needs FlowKit: pip install 'immune_correlates[flow]'") from exc
    return flowkit


def recompute_counts(path, fcs_dir) -> pd.DataFrame:
    """Event counts of every gate of a FlowJo workspace, recomputed from its FCS files by FlowKit.

    Parameters
    ----------
    path : str or Path
        The FlowJo workspace (``.wsp``).
    fcs_dir : str or Path
        Folder holding the workspace's FCS files.

    Returns
    -------
    DataFrame with ``sample`` (FlowJo's sample name), ``gating_path`` (full path,
    as :func:`read_flowjo_workspace` names it) and ``recomputed_count``.
    """
    fk = _flowkit()
    ws = fk.Workspace(str(path), fcs_samples=str(fcs_dir))
    ws.analyze_samples()
    rows = []
    for sample_id in ws.get_sample_ids():
        for r in ws.get_gating_results(sample_id).report.itertuples():
            parts = [p for p in tuple(r.gate_path) if p != "root"] + [r.gate_name]
            rows.append({"sample": sample_id, "gating_path": "/".join(parts), "recomputed_count": float(r.count)})
    return pd.DataFrame(rows, columns=["sample", "gating_path", "recomputed_count"])


_EXACT = {"RectangleGate", "Boolean"}


def recompute_workspace(
    path: Path, fcs_dir, samples: pd.DataFrame, pops: pd.DataFrame, problems: list
) -> tuple[pd.DataFrame, pd.DataFrame, list]:
    """Counts recomputed from the FCS files replace the stored ones; concordance of the two.

    Used by :func:`~immune_correlates.data.flowjo_workspace.read_flowjo_workspace`
    (``fcs_dir=``): returns the populations with recomputed counts, the
    concordance table and the problems, where stored-count problems give way to
    the disagreements between stored and recomputed counts.
    """
    fcs_dir = Path(fcs_dir)
    wanted = set(samples["fcs_file"]) - {""}
    present = {p.name for p in fcs_dir.glob("*.fcs")} if fcs_dir.is_dir() else set()
    missing = sorted(wanted - present)
    if missing:
        raise InputError(
            f"{len(missing)} FCS file(s) named in the workspace are not in {fcs_dir}",
            source=path.name,
            rows=[{"fcs_file": m} for m in missing],
            hint="Pass the folder holding the workspace's FCS files (fcs_dir=).",
        )
    redone = recompute_counts(path, fcs_dir)
    stored = pops.rename(columns={"event_count": "stored_count"})
    conc = stored[["sample", "gating_path", "gate_type", "stored_count"]].merge(
        redone, on=["sample", "gating_path"], how="outer"
    )
    conc["difference"] = conc["recomputed_count"] - conc["stored_count"]
    conc["relative_difference"] = conc["difference"] / conc["stored_count"].where(conc["stored_count"] > 0)
    status = np.where(
        conc["stored_count"].isna(),
        "stored count missing",
        np.where(
            conc["difference"] == 0,
            "agree",
            np.where(conc["gate_type"].isin(_EXACT), "differs", "differs (binned gate)"),
        ),
    )
    conc["status"] = np.where(conc["recomputed_count"].isna(), "not recomputed", status)
    conc = conc.sort_values(["sample", "gating_path"], kind="stable").reset_index(drop=True)
    # the stored-count problems are answered by the recomputed counts; say where they disagree
    kept = [p for p in problems if p.get("about") != "count"]
    for r in conc.loc[conc["status"].isin(["differs", "differs (binned gate)", "not recomputed"])].itertuples():
        kept.append(
            {
                "sample": r.sample,
                "gating_path": r.gating_path,
                "severity": "check",
                "problem": f"{r.status}: FlowJo stored {r.stored_count:g}, recomputed "
                f"{r.recomputed_count:g} (the recomputed count is used)",
            }
        )
    counts = redone.set_index(["sample", "gating_path"])["recomputed_count"]
    events = samples.set_index("sample")["events"]
    new = pops.copy()
    new["event_count"] = [counts.get((s, g), np.nan) for s, g in zip(new["sample"], new["gating_path"])]
    new["parent_count"] = [
        counts.get((s, pp), np.nan) if pp else events.get(s, np.nan) for s, pp in zip(new["sample"], new["parent_path"])
    ]
    new["freq_of_parent"] = 100 * new["event_count"] / new["parent_count"].where(new["parent_count"] > 0)
    return new, conc, kept


def boolean_subset_counts(path, fcs_dir, sample_map, *, parent: str, functions) -> pd.DataFrame:
    """Counts of every Boolean subset of function gates under ``parent``, from the FCS events.

    FlowJo stores counts of single-function gates (and of whatever Boolean gates
    someone drew); the ``2**k`` disjoint subsets that polyfunctionality needs
    are counted here event by event.

    Parameters
    ----------
    path : str or Path
        The FlowJo workspace.
    fcs_dir : str or Path
        Folder with its FCS files.
    sample_map : path, DataFrame or dict
        Sample sheet with ``sample``, ``patient_id``, ``timepoint``, ``condition``
        (``stimulated``/``unstimulated``) and optionally ``cell_type`` (default:
        the parent gate's name).
    parent : str
        Full gating path of the parent population, e.g. ``"Lymphocytes/CD3+/CD8+"``.
    functions : sequence of str
        Names of the function gates directly under ``parent``, e.g.
        ``["CD107a+", "IFNg+", "TNFa+"]``.

    Returns
    -------
    DataFrame in the layout of :func:`immune_correlates.ics_functions`.
    """
    from .flowjo import read_sample_map

    fk = _flowkit()
    sheet = read_sample_map(sample_map, Path(path).name)
    missing = [c for c in ("condition",) if any(c not in row for row in sheet.values())]
    if missing:
        raise InputError(
            "the sample sheet needs a 'condition' column (stimulated / unstimulated)", source=Path(path).name
        )
    ws = fk.Workspace(str(path), fcs_samples=str(fcs_dir))
    ws.analyze_samples()
    parent_path = ("root",) + tuple(parent.split("/")[:-1])
    parent_name = parent.split("/")[-1]
    names = [f[:-1] if f.endswith("+") else f for f in functions]
    rows = []
    for sample_id in ws.get_sample_ids():
        info = sheet.get(sample_id)
        if info is None:
            continue
        inside = np.asarray(ws.get_gate_membership(sample_id, parent_name, gate_path=parent_path), bool)
        member = np.column_stack(
            [
                np.asarray(ws.get_gate_membership(sample_id, f, gate_path=("root", *parent.split("/"))), bool)
                for f in functions
            ]
        )[inside]
        codes = member.astype(int) @ (1 << np.arange(len(functions))[::-1])
        tally = np.bincount(codes, minlength=2 ** len(functions))
        for code, n in enumerate(tally):
            signs = [(code >> (len(functions) - 1 - i)) & 1 for i in range(len(functions))]
            rows.append(
                {
                    "patient_id": str(info["patient_id"]).strip(),
                    "timepoint": str(info["timepoint"]).strip(),
                    "cell_type": str(info.get("cell_type", parent_name)).strip(),
                    "condition": str(info["condition"]).strip(),
                    "subset": " ".join(f"{m}{'+' if s_ else '-'}" for m, s_ in zip(names, signs)),
                    "count": int(n),
                    "parent_count": int(inside.sum()),
                }
            )
    return pd.DataFrame(rows)


def gatingml_membership(gating_ml, fcs) -> pd.DataFrame:
    """Event-by-event membership of every gate of a Gating-ML 2.0 file.

    Parameters
    ----------
    gating_ml : str or Path
        A Gating-ML 2.0 XML file (gates, transforms, compensation).
    fcs : str or Path
        The FCS file to gate.

    Returns
    -------
    DataFrame
        One boolean column per gate id, one row per event.
    """
    fk = _flowkit()
    strategy = fk.parse_gating_xml(str(gating_ml))
    sample = fk.Sample(str(fcs))
    results = strategy.gate_sample(sample)
    columns = {}
    for r in results.report.itertuples():  # quadrant gates report one row per quadrant
        columns[r.gate_name] = np.asarray(results.get_gate_membership(r.gate_name, gate_path=r.gate_path), bool)
    return pd.DataFrame(columns)
