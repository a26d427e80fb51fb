"""Functional readouts: background-subtracted percent positive, proliferation, synapse.

Percent-positive assays (CD107a degranulation, IFN-gamma, TNF by intracellular
staining) and percent divided are reported as the stimulated value minus the
unstimulated (background) value of the same patient, timepoint, assay and cell
type, floored at 0::

    readout = max(stimulated - unstimulated, 0)

When the unstimulated value exceeds the stimulated one the readout is 0 and the
value carries the quality flag ``"unstimulated above stimulated"``.  Readouts
without a background control (division index, synapse index) use the
stimulated value as it is (``background="none"``).

References
----------
Betts MR, et al. Sensitive and viable identification of antigen-specific CD8+
T cells by a flow cytometric assay for degranulation. J Immunol Methods
2003;281:65-78.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._checks import check_range, check_unique, raise_bad_rows
from ..errors import ConfigError
from ._common import Computed, at_timepoint, patient_index

__all__ = [
    "background_subtract",
    "validate_function_assays",
    "AssayTable",
    "UNITS",
    "LYSIS_ASSAYS",
]

UNITS = ("%", "% lysis", "index")
LYSIS_ASSAYS = ("cytotoxicity", "adcc")
KEYS = ["patient_id", "timepoint", "assay", "cell_type", "condition", "unit"]


def background_subtract(stimulated, unstimulated):
    """Stimulated minus unstimulated, floored at 0, and whether background exceeded signal.

    Parameters
    ----------
    stimulated, unstimulated : float or array-like
        Percent positive in the stimulated and unstimulated wells.

    Returns
    -------
    (readout, background_above) : arrays
        ``max(stimulated - unstimulated, 0)`` (NaN propagates) and a boolean
        array, True where ``unstimulated > stimulated``.

    Examples
    --------
    >>> background_subtract([12.5, 1.0], [2.0, 3.0])
    (array([10.5,  0. ]), array([False,  True]))
    """
    s = np.asarray(stimulated, dtype=float)
    u = np.asarray(unstimulated, dtype=float)
    diff = s - u
    above = np.greater(u, s, where=~(np.isnan(s) | np.isnan(u)), out=np.zeros(diff.shape, bool))
    return np.where(np.isnan(diff), np.nan, np.maximum(diff, 0.0)), above


def validate_function_assays(frame: pd.DataFrame, *, source: str | None) -> pd.DataFrame:
    """Normalise codes (trim, lower-case assay/condition) and check values by unit.

    ``%`` must be 0-100, ``% lysis`` between -100 and 100, ``index`` >= 0;
    an unknown unit or a repeated measurement is an InputError naming the sample.
    """
    out = frame.copy()
    if len(out) == 0:
        return out
    out["assay"] = out["assay"].astype(str).str.strip().str.lower()
    out["cell_type"] = out["cell_type"].astype(str).str.strip()
    out["condition"] = out["condition"].astype(str).str.strip()
    out["unit"] = out["unit"].astype(str).str.strip()
    plain = ~out["assay"].isin(LYSIS_ASSAYS)
    out.loc[plain, "condition"] = out.loc[plain, "condition"].str.lower()
    raise_bad_rows(
        out,
        ~out["unit"].isin(UNITS),
        "unit",
        f"is not one of {list(UNITS)}",
        source=source,
        extra=["assay", "cell_type"],
        hint="Use '%' for percent positive or divided, '% lysis' for specific lysis, "
        "'index' for a division or synapse index.",
    )
    extra = ["assay", "cell_type", "condition", "unit"]
    for unit, low, high, what in (
        ("%", 0, 100, "percent positive"),
        ("% lysis", -100, 100, "percent specific lysis"),
        ("index", 0, None, "index"),
    ):
        sub = out.loc[out["unit"] == unit]
        if len(sub):
            check_range(sub, "value", low=low, high=high, source=source, what=what, extra=extra)
    check_unique(out, KEYS, source=source, what="one row per patient, timepoint, assay, cell type, condition and unit")
    return out


def validated_assays(frame: pd.DataFrame, *, source: str | None) -> pd.DataFrame:
    """:func:`validate_function_assays` with ``value`` as floats: the rows an :class:`AssayTable` keeps."""
    out = validate_function_assays(frame, source=source)
    if len(out):
        out["value"] = pd.to_numeric(out["value"], errors="coerce").astype(float)
    return out


class AssayTable:
    """One timepoint of the function-assay table, validated.

    Parameters
    ----------
    function_assays : DataFrame
        Long table (see ``docs/data-format.md``).
    timepoint : str or None
    source : str, optional
        File name used in error messages.
    """

    def __init__(
        self, function_assays: pd.DataFrame, timepoint: str | None = "baseline", *, source: str | None = None
    ) -> None:
        self.source = source
        self.timepoint = timepoint
        self.long = validated_assays(at_timepoint(function_assays, timepoint), source=source)

    @classmethod
    def from_validated(cls, long: pd.DataFrame, timepoint: str | None, *, source: str | None = None) -> AssayTable:
        """The table of rows already selected and checked (:func:`validated_assays`)."""
        table = cls.__new__(cls)
        table.source, table.timepoint, table.long = source, timepoint, long
        return table

    def _codes(self) -> dict[str, np.ndarray]:
        """``assay``, lower-case ``cell_type`` and ``unit`` of every row as arrays (computed once)."""
        if "_code_arrays" not in self.__dict__:
            long = self.long
            self.__dict__["_code_arrays"] = {
                "assay": long["assay"].to_numpy(dtype=object),
                "cell_type": long["cell_type"].str.lower().to_numpy(dtype=object),
                "unit": long["unit"].to_numpy(dtype=object),
            }
        return self.__dict__["_code_arrays"]

    def _mask(self, assay: str, cell_type: str, unit: str | None) -> np.ndarray:
        codes = self._codes()
        mask = (codes["assay"] == assay.strip().lower()) & (codes["cell_type"] == cell_type.strip().lower())
        if unit is not None:
            mask &= codes["unit"] == unit
        return mask

    def select(self, assay: str, cell_type: str, unit: str | None = None) -> pd.DataFrame:
        """Rows of one assay and cell type (and unit), matched case-insensitively."""
        if len(self.long) == 0:
            return self.long
        return self.long.loc[self._mask(assay, cell_type, unit)]

    def _describe(self, assay: str, cell_type: str, unit: str | None) -> str:
        return f"{assay}/{cell_type}" + (f" ({unit})" if unit else "")

    def readout(
        self, patients, assay: str, cell_type: str, unit: str | None = "%", background: str = "subtract"
    ) -> Computed:
        """Background-subtracted (or stimulated) readout per patient.

        Parameters
        ----------
        patients : sequence of str
        assay, cell_type, unit : str
            Which rows to use (``unit=None`` accepts any unit).
        background : {"subtract", "none"}
            ``"subtract"``: ``max(stimulated - unstimulated, 0)``; a stimulated
            row without its unstimulated control is an InputError.
            ``"none"``: the stimulated value.
        """
        if background not in ("subtract", "none"):
            raise ConfigError(f"background must be 'subtract' or 'none', got {background!r}.")
        what = self._describe(assay, cell_type, unit)
        idx = patient_index(patients)
        default = f"no {what} row at timepoint {self.timepoint!r}"
        if len(self.long) == 0 or not (mask := self._mask(assay, cell_type, unit)).any():
            return Computed.empty(idx, default)
        rows = self.long.loc[mask]
        where = idx.get_indexer(rows["patient_id"].to_numpy(dtype=object))
        condition = rows["condition"].to_numpy(dtype=object)
        value = rows["value"].to_numpy(dtype=float)
        raise_bad_rows(
            rows,
            rows.duplicated(["patient_id", "condition"], keep=False),
            "unit",
            f"gives {what} twice for one patient and condition (in different units)",
            source=self.source,
            extra=["assay", "cell_type", "condition"],
            hint="Name the readout's unit in the panel (unit = '%' or 'index') so that one row is read.",
        )
        n = len(idx)
        kept = where >= 0

        def wide(cond):
            """Each patient's value of one condition (NaN without a row) and whether the row exists."""
            sel = kept & (condition == cond)
            out, has = np.full(n, np.nan), np.zeros(n, dtype=bool)
            out[where[sel]], has[where[sel]] = value[sel], True
            return out, has

        stim, has_stim = wide("stimulated")
        others = np.zeros(n, dtype=bool)
        others[where[kept & (condition != "stimulated")]] = True
        reason = np.full(n, default, dtype=object)
        reason = np.where(others, f"no stimulated {what} row (only other conditions)", reason)
        reason = np.where(has_stim, "", reason)
        reason = np.where(has_stim & np.isnan(stim), f"{what} stimulated value blank", reason)
        stim_name = "stimulated" if (condition == "stimulated").any() else None
        if background == "none":
            return Computed.from_parts(idx, stim, reason, "stimulated", names=(stim_name, None, None, None, None))
        unstim, has_unstim = wide("unstimulated")
        orphan = has_stim & ~has_unstim
        if orphan.any():
            bad = rows.loc[rows["patient_id"].isin(idx[orphan]) & (rows["condition"] == "stimulated")]
            raise_bad_rows(
                bad,
                pd.Series(True, index=bad.index),
                "condition",
                f"({what}) has no unstimulated control row for this sample",
                source=self.source,
                extra=["assay", "cell_type", "unit"],
                hint="Add the unstimulated (background) row, or use background='none' in the panel "
                "if this readout has no control.",
            )
        reason = np.where(has_stim & ~np.isnan(stim) & np.isnan(unstim), f"{what} unstimulated value blank", reason)
        readout, above = background_subtract(stim, unstim)
        flags = np.where(above, "unstimulated above stimulated (readout floored at 0)", "").astype(object)
        return Computed.from_parts(idx, readout, reason, "background_subtracted", None, flags)
