"""Re-gate FCS files with a workspace's gates and compare with FlowJo's stored counts.

Needs the optional extra ``immune_correlates[flow]`` (FlowKit, BSD-3, which
applies Gating-ML 2.0 gates, FlowJo transforms and compensation to FCS
events; White et al. 2021).  The stored counts are FlowJo's answer; the
recomputed counts say whether the workspace is current.  Rectangle and quadrant
gates must agree exactly; polygon and ellipse gates can differ slightly
because FlowJo evaluates them on binned display data (FlowKit issues 113 and
194), so a difference there is flagged for checking, not as an error.

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
from .flowjo_workspace import read_flowjo_workspace

__all__ = ["regate_workspace", "gatingml_membership"]

_EXACT = {"RectangleGate", "Boolean"}


def _flowkit():
    try:
        import flowkit
    except ImportError as exc:
        raise ImportError("re-gating from FCS files needs FlowKit: pip install "
                          "'immune_correlates[flow]'") from exc
    return flowkit


def regate_workspace(path, fcs_dir) -> pd.DataFrame:
    """Recompute every gate of a FlowJo workspace from its FCS files; compare with stored counts.

    Parameters
    ----------
    path : str or Path
        The FlowJo workspace (``.wsp``).
    fcs_dir : str or Path
        Folder holding the FCS files named in the workspace.

    Returns
    -------
    DataFrame
        One row per sample and gate: ``sample``, ``gating_path``, ``gate_type``,
        ``stored_count`` (FlowJo's, missing where never computed),
        ``recomputed_count``, ``difference`` (recomputed - stored), ``relative_difference`` and ``status``:
        ``"agree"``, ``"differs"`` (a rectangle, quadrant or Boolean gate whose
        counts differ: the workspace is stale or the gate was changed),
        ``"differs (binned gate)"`` (polygon or ellipse: FlowJo gates binned
        data; check the size of the difference) or ``"stored count missing"``.

    Raises
    ------
    InputError
        When an FCS file named in the workspace is not in ``fcs_dir``.
    """
    fk = _flowkit()
    stored = read_flowjo_workspace(path, timepoint=None, on_problem="warn")
    fcs_dir = Path(fcs_dir)
    wanted = set(stored.samples["fcs_file"]) - {""}
    present = {p.name for p in fcs_dir.glob("*.fcs")} if fcs_dir.is_dir() else set()
    missing = sorted(wanted - present)
    if missing:
        raise InputError(f"{len(missing)} FCS file(s) named in the workspace are not in {fcs_dir}",
                         source=stored.source, rows=[{"fcs_file": m} for m in missing],
                         hint="Pass the folder holding the workspace's FCS files (fcs_dir=).")
    ws = fk.Workspace(str(path), fcs_samples=str(fcs_dir))
    ws.analyze_samples()
    rows = []
    for sample_id in ws.get_sample_ids():
        report = ws.get_gating_results(sample_id).report
        for r in report.itertuples():
            parts = [p for p in tuple(r.gate_path) if p != "root"] + [r.gate_name]
            rows.append({"sample": sample_id, "gating_path": "/".join(parts),
                         "recomputed_count": float(r.count)})
    recomputed = pd.DataFrame(rows, columns=["sample", "gating_path", "recomputed_count"])
    pops = stored.populations.rename(columns={"event_count": "stored_count"})
    out = pops[["sample", "gating_path", "gate_type", "stored_count"]].merge(
        recomputed, on=["sample", "gating_path"], how="outer")
    out["difference"] = out["recomputed_count"] - out["stored_count"]
    out["relative_difference"] = out["difference"] / out["stored_count"].where(out["stored_count"] > 0)
    status = np.where(out["stored_count"].isna(), "stored count missing",
                      np.where(out["difference"] == 0, "agree",
                               np.where(out["gate_type"].isin(_EXACT), "differs", "differs (binned gate)")))
    out["status"] = np.where(out["recomputed_count"].isna(), "not recomputed", status)
    return out.sort_values(["sample", "gating_path"], kind="stable").reset_index(drop=True)


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
        columns[r.gate_name] = np.asarray(results.get_gate_membership(r.gate_name, gate_path=r.gate_path),
                                          bool)
    return pd.DataFrame(columns)
