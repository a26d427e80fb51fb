"""FlowJo workspaces read without FCS files: the 14 FlowKit test workspaces and their traps.

The reference for every stored count is the XML itself, read here independently
with ``xml.etree`` (the reader uses defusedxml and its own tree walk).
"""

from __future__ import annotations

import os
import shutil
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import immune_correlates as ic
from immune_correlates.errors import DataQualityWarning, InputError
from immune_correlates.features import population_frequencies

# ../shared beside the clone (CI); searched upwards so that git worktrees find it too
FLOWKIT = next(
    (
        p / "shared" / "data" / "flowkit" / "data"
        for p in Path(__file__).resolve().parents[2].parents
        if (p / "shared" / "data" / "flowkit" / "data").is_dir()
    ),
    Path("shared/data/flowkit/data"),
)
if not FLOWKIT.is_dir():  # CI always has ../shared beside the clone; elsewhere skip
    if os.environ.get("CI"):
        raise RuntimeError(f"FlowKit test data missing at {FLOWKIT}")
    pytest.skip("../shared/data/flowkit not present", allow_module_level=True)

WORKSPACES = sorted(FLOWKIT.rglob("*.wsp"))
ICS = FLOWKIT / "8_color_data_set"
BOOL = ICS / "8_color_ICS_boolean_gate_testing.wsp"
GATE_TAGS = ("Population", "AndNode", "OrNode", "NotNode")


def read(path, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return ic.read_flowjo_workspace(path, *args, **kw)


def xml_counts(path: Path) -> list[tuple[str, str, float]]:
    """(sample, gate name, stored count) of every gate node under every SampleNode."""
    out = []
    for sample in ET.parse(path).getroot().iter("SampleNode"):
        for node in sample.iter():
            if node.tag in GATE_TAGS and node is not sample:
                c = float(node.get("count", "nan"))
                out.append((sample.get("name"), node.get("name"), np.nan if c < 0 else c))
    return out


def test_all_fourteen_workspaces_are_in_the_shared_data():
    assert len(WORKSPACES) == 14


@pytest.mark.parametrize("path", WORKSPACES, ids=lambda p: p.name)
def test_stored_counts_equal_the_xml(path):
    ws = read(path)
    got = sorted(
        zip(ws.populations["sample"], ws.populations["gate"], ws.populations["event_count"]),
        key=lambda t: (t[0], t[1], -1 if np.isnan(t[2]) else t[2]),
    )
    want = sorted(xml_counts(path), key=lambda t: (t[0], t[1], -1 if np.isnan(t[2]) else t[2]))
    assert len(got) == len(want)
    for (s1, g1, c1), (s2, g2, c2) in zip(got, want):
        assert (s1, g1) == (s2, g2)
        assert (np.isnan(c1) and np.isnan(c2)) or c1 == c2
    # freq_of_parent is count / parent count wherever both are known
    pops = ws.populations.dropna(subset=["event_count", "parent_count"])
    pops = pops.loc[pops["parent_count"] > 0]
    np.testing.assert_allclose(pops["freq_of_parent"], 100 * pops["event_count"] / pops["parent_count"], rtol=1e-15)
    assert ws.samples["events"].notna().all()


def test_same_gate_names_under_cd4_and_cd8_are_told_apart_by_path():
    ws = read(ICS / "8_color_ICS.wsp")
    e03 = ws.populations.loc[ws.populations["sample"].str.contains("E03")].set_index("gating_path")
    cd4 = "Time/Singlets/aAmine-/CD3+/CD4+/IFNg+"
    cd8 = "Time/Singlets/aAmine-/CD3+/CD8+/IFNg+"
    assert e03.index.is_unique and cd4 in e03.index and cd8 in e03.index
    assert e03.loc[cd4, "parent_path"].endswith("CD4+") and e03.loc[cd8, "parent_path"].endswith("CD8+")


def test_boolean_gates_keep_their_operands_and_stored_counts():
    ws = read(BOOL)
    e03 = ws.populations.loc[ws.populations["sample"].str.contains("E03")]
    cd4 = e03.loc[e03["parent_path"] == "Time/Singlets/aAmine-/CD3+/CD4+"].set_index("gate")
    # the README's numbers for sample E03 CD4+: 62 + 607 - 6 = 663
    assert cd4.loc["CD107a+", "event_count"] == 62 and cd4.loc["IFNg+", "event_count"] == 607
    assert cd4.loc["CD107a+ & IFNg+", "node_type"] == "and" and cd4.loc["CD107a+ & IFNg+", "event_count"] == 6
    assert cd4.loc["CD107a+ or IFNg+", "node_type"] == "or" and cd4.loc["CD107a+ or IFNg+", "event_count"] == 663
    assert cd4.loc["CD107a+ or IFNg+", "dependents"].split(";") == [
        "Time/Singlets/aAmine-/CD3+/CD4+/CD107a+",
        "Time/Singlets/aAmine-/CD3+/CD4+/IFNg+",
    ]
    # NOT gates hold the parent's events the operand lacks (checked by the reader: no problem raised)
    assert cd4.loc["IL2+-", "event_count"] == cd4.loc["IL2+-", "parent_count"] - cd4.loc["IL2+", "event_count"]
    assert not ws.problems["problem"].str.contains("NOT gate").any()
    # a gate under a NOT gate
    under_not = e03.loc[e03["parent_path"].str.endswith("CD8+/TNFa+-")]
    assert under_not["gate"].tolist() == ["CD107a+"] and under_not["event_count"].tolist() == [198]


def test_gate_named_dot_is_kept_and_noted():
    ws = read(ICS / "8_color_ICS_dot_gate_name.wsp")
    dots = ws.populations.loc[ws.populations["gate"] == "."]
    assert len(dots) == 3 and dots["gating_path"].str.endswith("/CD4+/.").all()
    assert dots["event_count"].notna().all()
    notes = ws.problems.loc[ws.problems["severity"] == "note"]
    assert len(notes) == 3 and notes["problem"].str.contains("'.'").all()


def test_sample_without_gates_is_reported_not_dropped():
    ws = read(ICS / "8_color_ICS_sample_without_gates.wsp")
    e05 = ws.samples.loc[ws.samples["sample"].str.contains("E05")].iloc[0]
    assert e05["n_gates"] == 0 and e05["events"] == 285290
    row = ws.problems.loc[ws.problems["sample"] == e05["sample"]]
    assert row["problem"].tolist() == ["sample has no gates"]
    # E03's own Time gate keeps its own stored count
    time = ws.populations.set_index(["sample", "gating_path"])["event_count"]
    assert time[("101_DEN084Y5_15_E03_009_clean.fcs", "Time")] == 256251


def test_never_computed_counts_are_missing_with_a_reason_never_zero():
    path = FLOWKIT / "simple_line_example" / "simple_poly_and_rect.wsp"
    with pytest.warns(DataQualityWarning, match="cannot be used"):
        ws = ic.read_flowjo_workspace(path)
    assert ws.populations["event_count"].isna().all() and ws.populations["freq_of_parent"].isna().all()
    assert set(ws.problems["severity"]) == {"error"}
    assert ws.problems["problem"].str.contains("never computed").all()
    with pytest.raises(InputError, match="2 gate count") as err:
        ic.read_flowjo_workspace(path, on_problem="raise")
    assert "poly1" in str(err.value) and "simple_poly_and_rect.wsp" in str(err.value)


def test_stored_zero_is_kept_but_flagged_for_checking():
    ws = read(FLOWKIT / "simple_line_example" / "simple_poly_and_rect_v2_poly50.wsp")
    counts = ws.populations.set_index("gate")["event_count"]
    assert counts["poly1"] == 0 and counts["rect1"] == 0  # FlowJo's stored answer (poly1 is stale)
    flagged = ws.problems.loc[ws.problems["severity"] == "check", "gating_path"]
    assert sorted(flagged) == ["poly1", "rect1"]


def test_quadrants_and_reused_gates():
    ws = read(FLOWKIT / "simple_diamond_example" / "simple_diamond_example_quad_gate.wsp")
    assert sorted(ws.populations["event_count"]) == [49403, 49671, 50330, 50596]
    assert (ws.populations["gate_type"] == "RectangleGate").all()
    reused = read(ICS / "reused_quad_gate_with_child.wsp").populations.set_index("gating_path")
    assert reused.loc["good cells/cd4+/Q2: CD107a+, IL2+/some_child_gate", "event_count"] == 558
    assert reused.loc["good cells/cd8+/Q2: CD107a+, IL2+/some_child_gate", "event_count"] == 299


def test_samples_map_to_patients_by_pattern_keyword_or_sheet(tmp_path):
    by_pattern = read(BOOL, pattern=r"_(?P<patient_id>E\d\d)_(?P<timepoint>\d{3})_")
    assert sorted(by_pattern.samples["patient_id"]) == ["E01", "E03", "E05"]
    assert set(by_pattern.samples["timepoint"]) == {"008", "009", "010"}
    # keywords FlowJo copied from the FCS header (case-insensitive names), here the start time
    by_keyword = read(BOOL, patient_keyword="$btim", timepoint_keyword="$CYT")
    assert sorted(by_keyword.samples["patient_id"]) == ["13:37:39", "13:39:24", "13:41:08"]
    assert set(by_keyword.immunophenotype["timepoint"]) == {"LSRII"}
    sheet = pd.DataFrame(
        {
            "sample": ["101_DEN084Y5_15_E01_008_clean.fcs", "101_DEN084Y5_15_E03_009_clean.fcs"],
            "patient_id": ["P1", "P2"],
            "timepoint": ["baseline", "baseline"],
        }
    )
    ws = read(BOOL, sheet)
    assert sorted(ws.immunophenotype["patient_id"].unique()) == ["P1", "P2"]
    unmapped = ws.problems.loc[ws.problems["problem"].str.contains("not mapped"), "sample"]
    assert unmapped.tolist() == ["101_DEN084Y5_15_E05_010_clean.fcs"]


def test_two_samples_on_one_patient_and_timepoint_is_an_error():
    with pytest.raises(InputError, match="same patient and timepoint") as err:
        read(BOOL, patient_keyword="$CYT")
    assert "E03" in str(err.value)


def test_root_gate_becomes_lymphocytes_and_feeds_population_frequencies():
    ws = read(BOOL, pattern=r"_(?P<patient_id>E\d\d)_", root="Time/Singlets/aAmine-")
    imm = ws.immunophenotype
    assert imm["gating_path"].str.startswith("Lymphocytes").all()
    freq = population_frequencies(imm, ["Lymphocytes/CD3+/CD4+/IFNg+"])
    pops = ws.populations.set_index(["sample", "gating_path"])["event_count"]
    s = "101_DEN084Y5_15_E03_009_clean.fcs"
    want = 100 * pops[(s, "Time/Singlets/aAmine-/CD3+/CD4+/IFNg+")] / pops[(s, "Time/Singlets/aAmine-")]
    assert freq.at["E03", "Lymphocytes/CD3+/CD4+/IFNg+"] == pytest.approx(want, rel=1e-13)


def test_bead_gate_count_becomes_bead_events(tmp_path):
    ws = read(ICS / "8_color_ICS_simple.wsp", pattern=r"_(?P<patient_id>E\d\d)_", bead_gate="Time")
    imm = ws.immunophenotype
    assert "Time" not in set(imm["gating_path"])
    e01 = imm.loc[imm["patient_id"] == "E01"]
    time = ws.populations.set_index(["sample", "gating_path"])["event_count"]
    assert set(e01["bead_events"]) == {time[("101_DEN084Y5_15_E01_008_clean.fcs", "Time")]}


def _edited(tmp_path, src, edit) -> Path:
    tree = ET.parse(src)
    edit(tree.getroot())
    out = tmp_path / src.name
    tree.write(out)
    return out


def test_child_with_more_events_than_its_parent_is_an_error(tmp_path):
    def edit(root):
        node = next(n for n in root.find("SampleList").iter("Population") if n.get("name") == "CD3+")
        node.set("count", "99999999")

    path = _edited(tmp_path, ICS / "8_color_ICS_simple.wsp", edit)
    with pytest.raises(InputError, match="cannot be used") as err:
        ic.read_flowjo_workspace(path, on_problem="raise")
    assert "more than the" in str(err.value)


def test_duplicate_sample_names_are_reported(tmp_path):
    def edit(root):
        samples = root.find("SampleList")
        samples.append(ET.fromstring(ET.tostring(samples.find("Sample"))))

    path = _edited(tmp_path, FLOWKIT / "simple_diamond_example" / "test_data_diamond_biex_rect.wsp", edit)
    ws = read(path)
    assert ws.samples["sample"].tolist() == ["test_data_diamond_01.fcs", "test_data_diamond_01.fcs [2]"]
    assert ws.problems["problem"].str.contains("more than once").any()


def test_xml_entities_are_refused(tmp_path):
    bomb = tmp_path / "bomb.wsp"
    bomb.write_text(
        '<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><Workspace>&b;</Workspace>'
    )
    with pytest.raises(InputError, match="refused"):
        ic.read_flowjo_workspace(bomb)


def test_not_a_workspace(tmp_path):
    other = tmp_path / "x.wsp"
    other.write_text("<Gating/>")
    with pytest.raises(InputError, match="not a FlowJo workspace"):
        ic.read_flowjo_workspace(other)
    shutil.copy(FLOWKIT / "gate_ref" / "gml" / "gml_rect1_gate.xml", tmp_path / "g.wsp")
    with pytest.raises(InputError, match="not a FlowJo workspace"):
        ic.read_flowjo_workspace(tmp_path / "g.wsp")
