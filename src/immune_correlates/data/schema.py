"""The column specifications of the four input tables (see docs/data-format.md)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "Column",
    "TableSpec",
    "CLINICAL",
    "IMMUNOPHENOTYPE",
    "FUNCTION_ASSAYS",
    "ADVERSE_EVENTS",
    "RESPONSES",
    "ASSAYS",
    "UNITS",
    "SPECS",
]

#: iwCLL 2008 best-response categories, best first.
RESPONSES = ("CR", "CRi", "nPR", "PR", "SD", "PD", "NE")
ASSAYS = ("cd107a", "ifng", "tnf", "proliferation", "cytotoxicity", "adcc", "synapse")
UNITS = ("%", "% lysis", "index")
#: Plausibility limits: values above them are typing or unit errors, not measurements.
MAX_ALC = 2000.0  # 10^9/L; the highest lymphocyte counts reported in CLL are of the order of 1000
MAX_EVENTS = 1e9  # events or beads in one tube; cytometers acquire at most ~10^7
MAX_VOLUME_UL = 1e5
_EVENTS_HINT = "No tube holds more than 10^9 events or beads; check the cell for a typing or export error."


@dataclass(frozen=True)
class Column:
    """One column: its kind and constraints.

    ``kind`` is one of ``text``, ``date``, ``binary``, ``number``, ``integer``, ``code``.
    """

    name: str
    kind: str
    required: bool = False
    allowed: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    strict_min: bool = False
    description: str = ""
    hint: str | None = None


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = field(default=())

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


CLINICAL = TableSpec(
    "clinical",
    (
        Column("patient_id", "text", True),
        Column("treatment_start", "date", True),
        Column("best_response", "code", True, allowed=RESPONSES),
        Column("last_followup", "date", True),
        Column("progression_date", "date"),
        Column("death_date", "date"),
        Column("mrd_negative", "binary"),
        Column(
            "alc",
            "number",
            minimum=0,
            maximum=MAX_ALC,
            hint=f"alc is the absolute lymphocyte count in 10^9/L (x 1000 cells/uL); values above {MAX_ALC:g} "
            "are not physiological. A count in cells/uL must be divided by 1000.",
        ),
        Column("age", "number", minimum=0, maximum=120),
        Column("sex", "code", allowed=("M", "F")),
        Column("del17p", "binary"),
        Column("ighv_unmutated", "binary"),
        Column("prior_therapies", "integer", minimum=0),
        Column("cycles_received", "integer", minimum=0),
        Column("response_date", "date", description="first documented response (responders only)"),
    ),
    key=("patient_id",),
)

#: When a sample was drawn (optional; see :mod:`immune_correlates.data.samples`).
_SAMPLE_TIMING = (
    Column("day", "integer", description="days from treatment_start (day 0) to the sample"),
    Column("sample_date", "date", description="date the sample was drawn"),
)

IMMUNOPHENOTYPE = TableSpec(
    "immunophenotype",
    (
        Column("patient_id", "text", True),
        Column("timepoint", "text", True),
        Column("gating_path", "text", True),
        Column("freq_of_parent", "number", True, minimum=0, maximum=100),
        Column("event_count", "integer", minimum=0, maximum=MAX_EVENTS, hint=_EVENTS_HINT),
        Column("bead_events", "integer", minimum=0, strict_min=True, maximum=MAX_EVENTS, hint=_EVENTS_HINT),
        Column("beads_per_tube", "number", minimum=0, strict_min=True, maximum=MAX_EVENTS, hint=_EVENTS_HINT),
        Column(
            "sample_volume_ul",
            "number",
            minimum=0,
            strict_min=True,
            maximum=MAX_VOLUME_UL,
            hint=f"The volume of blood stained, in uL; above {MAX_VOLUME_UL:g} uL (100 mL) is not a stained sample.",
        ),
        *_SAMPLE_TIMING,
        Column(
            "alc",
            "number",
            minimum=0,
            maximum=MAX_ALC,
            description="the sample's absolute lymphocyte count, 10^9/L (dual-platform counts after baseline)",
            hint=f"alc is the absolute lymphocyte count of the sample in 10^9/L; values above {MAX_ALC:g} "
            "are not physiological. A count in cells/uL must be divided by 1000.",
        ),
    ),
    key=("patient_id", "timepoint", "gating_path"),
)

FUNCTION_ASSAYS = TableSpec(
    "function_assays",
    (
        Column("patient_id", "text", True),
        Column("timepoint", "text", True),
        Column("assay", "code", True, allowed=ASSAYS),
        Column("cell_type", "text", True),
        Column("condition", "text", True),
        Column("value", "number", True),
        Column("unit", "code", True, allowed=UNITS),
        *_SAMPLE_TIMING,
    ),
    key=("patient_id", "timepoint", "assay", "cell_type", "condition", "unit"),
)

ADVERSE_EVENTS = TableSpec(
    "adverse_events",
    (
        Column("patient_id", "text", True),
        Column("cycle", "integer", True, minimum=1),
        Column("term", "text", True),
        Column("grade", "integer", True, minimum=1, maximum=5),
    ),
)

SPECS = {s.name: s for s in (CLINICAL, IMMUNOPHENOTYPE, FUNCTION_ASSAYS, ADVERSE_EVENTS)}
