"""Population frequencies from a long gating table, by multiplying along the gating path.

A gating path ``Lymphocytes/CD3+/CD4+`` names a population and its ancestors.
Each row gives ``freq_of_parent`` (percent of the parent gate), so the fraction
of a population among any ancestor ``A`` is the product of the
``freq_of_parent / 100`` of every gate below ``A`` down to the population:

    frac(CD4+ among Lymphocytes) = f(CD3+)/100 x f(CD4+)/100

With ``of=None`` the root gate's own frequency (lymphocytes among leukocytes)
is included as well.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._checks import raise_bad_rows
from .._params import TEXT, check_params
from ..data.gating import ROOT, normalise_path, split_path, validate_immunophenotype
from ..errors import ConfigError
from ._common import Computed, at_timepoint, missing_reasons, patient_index

__all__ = ["population_frequencies", "split_path", "validate_immunophenotype", "GateTable"]


class GateTable:
    """Wide view of one timepoint of the immunophenotype table (one row per patient).

    Parameters
    ----------
    immunophenotype : DataFrame
        Long table (``patient_id``, ``timepoint``, ``gating_path``, ``freq_of_parent``,
        optional ``event_count`` and bead columns).
    timepoint : str or None
        Timepoint to keep (None: the table must hold one timepoint only).
    source : str, optional
        File name used in error messages.
    """

    def __init__(
        self, immunophenotype: pd.DataFrame, timepoint: str | None = "baseline", *, source: str | None = None
    ) -> None:
        self.source = source
        self.timepoint = timepoint
        self._setup(validate_immunophenotype(at_timepoint(immunophenotype, timepoint), source=source))

    @classmethod
    def from_validated(cls, long: pd.DataFrame, timepoint: str | None, *, source: str | None = None) -> GateTable:
        """The table of rows already selected and checked as ``GateTable(table, timepoint)`` would."""
        table = cls.__new__(cls)
        table.source, table.timepoint = source, timepoint
        table._setup(long)
        return table

    def _setup(self, long: pd.DataFrame) -> None:
        self.long = long
        if len(long) == 0:
            self.freq = pd.DataFrame(dtype=float)
            self.exists = pd.DataFrame(dtype=bool)
            self.events = pd.DataFrame(dtype=float)
            return
        keyed = long.set_index(["patient_id", "gating_path"])
        self.freq = pd.to_numeric(keyed["freq_of_parent"], errors="coerce").astype(float).unstack() / 100.0
        self.exists = pd.Series(True, index=keyed.index).unstack(fill_value=False).astype(bool)
        if "event_count" in keyed.columns:
            self.events = pd.to_numeric(keyed["event_count"], errors="coerce").astype(float).unstack()
        else:
            self.events = pd.DataFrame(np.nan, index=self.freq.index, columns=self.freq.columns)

    def sample_value(self, column: str) -> pd.Series:
        """Each patient's first non-missing value of a per-sample column (``alc``, ``day``, ...), cached."""
        cache = self.__dict__.setdefault("_sample_values", {})
        if column not in cache:
            long = self.long
            if len(long) and column in long.columns:
                values = long[column]
                if column != "sample_date":
                    values = pd.to_numeric(values, errors="coerce")
                cache[column] = values.groupby(long["patient_id"]).first()
            else:
                cache[column] = pd.Series(dtype=float)
        return cache[column]

    def column(self, table: pd.DataFrame, path: str, fill) -> pd.Series:
        """One gate's column of a wide table, ``fill`` where the gate never occurs."""
        if path in table.columns:
            return table[path]
        return pd.Series(fill, index=table.index, dtype=type(fill) if fill is not None else float)

    def _arrays(self) -> tuple[dict, np.ndarray, np.ndarray, np.ndarray]:
        """Gate positions and the wide tables as arrays (patients x gates), computed once."""
        cached = self.__dict__.get("_wide")
        if cached is None:
            gates = {g: j for j, g in enumerate(self.exists.columns)}
            cached = (gates, self.exists.to_numpy(dtype=bool), self.freq.to_numpy(dtype=float))
            cached += (self.events.reindex(columns=self.exists.columns).to_numpy(dtype=float),)
            self.__dict__["_wide"] = cached
        return cached

    def gate_values(self, which: str, path: str) -> np.ndarray:
        """One gate's column of ``exists``, ``freq`` or ``events`` as an array (False / NaN where never seen)."""
        gates, exists, freq, events = self._arrays()
        j = gates.get(path)
        if which == "exists":
            return exists[:, j] if j is not None else np.zeros(exists.shape[0], dtype=bool)
        table = freq if which == "freq" else events
        return table[:, j] if j is not None else np.full(table.shape[0], np.nan)

    def patient_index(self) -> pd.Index:
        """The table's patients as the index of a :class:`Computed` (cached)."""
        if "_patients" not in self.__dict__:
            self.__dict__["_patients"] = patient_index(list(self.exists.index))
        return self.__dict__["_patients"]

    def fraction(self, path: str, of: str | None = ROOT, *, errors: str = "raise") -> Computed:
        """Fraction (0-1) of population ``path`` among ancestor ``of`` for every patient seen.

        Parameters
        ----------
        path : str
            Gating path of the population.
        of : str or None
            An ancestor on ``path`` (or ``path`` itself, giving 1); None multiplies
            down from the root gate's own frequency.
        errors : {"raise", "missing"}
            What to do when a population is present but a gate between ``of``
            and it is absent: raise InputError, or leave the value missing with
            the reason.
        """
        value, reason, events, name = self.fraction_on(path, of, None, errors=errors)
        if not len(self.exists.index):
            return Computed.empty([], "")
        return Computed.from_arrays(
            self.patient_index(),
            value,
            reason,
            np.where(np.isnan(value), "", "frequency").astype(object),
            events,
            names=(None, None, name, None, None),
        )

    def fraction_on(
        self, path: str, of: str | None = ROOT, patients: pd.Index | None = None, *, errors: str = "raise"
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, str | None]:
        """:meth:`fraction` as arrays on ``patients`` (default the table's): value, reason, events, events' name.

        A patient without rows at this timepoint has the reason "no immunophenotype
        rows at timepoint ...".
        """
        path = normalise_path(path)
        chain = split_path(path)
        if of is not None:
            of = normalise_path(of)
            if of not in chain:
                raise ConfigError(
                    f"gate {of!r} is not an ancestor of {path!r}: use a gate on the path ({', '.join(chain)})."
                )
            chain = chain[chain.index(of) + 1 :]
        target_exists = self.gate_values("exists", path)
        n = target_exists.shape[0]
        value = np.ones(n)
        reason = np.full(n, "", dtype=object)
        parent_missing = np.zeros(n, dtype=bool)
        for gate in chain:
            here = self.gate_values("exists", gate)
            f = self.gate_values("freq", gate)
            gap = target_exists & ~here
            reason = np.where(gap & (reason == ""), f"missing parent gate {gate!r}", reason)
            parent_missing |= gap
            blank = here & np.isnan(f)
            reason = np.where(blank & (reason == ""), f"freq_of_parent blank for gate {gate!r}", reason)
            value = value * f
        if errors == "raise" and parent_missing.any():
            self._raise_missing_parent(path, chain, target_exists)
        reason = np.where(~target_exists, f"no row for gate {path!r} at timepoint {self.timepoint!r}", reason)
        value = np.where(target_exists & ~parent_missing, value, np.nan)
        reason = missing_reasons(value, reason)
        events = self.gate_values("events", path)
        name = path if path in self.events.columns and n else None
        if patients is None:
            return value, reason, events, name
        rows = self.rows_of(patients)
        found = rows >= 0
        on = [
            np.full(len(patients), np.nan),
            np.full(len(patients), f"no immunophenotype rows at timepoint {self.timepoint!r}", dtype=object),
            np.full(len(patients), np.nan),
        ]
        for out, arr in zip(on, (value, reason, events)):
            out[found] = arr[rows[found]]
        return on[0], on[1], on[2], name

    def positions(self) -> tuple[np.ndarray, np.ndarray]:
        """Patient row and gate column (in the wide tables) of every row of ``long``, cached."""
        if "_positions" not in self.__dict__:
            self.__dict__["_positions"] = (
                self.exists.index.get_indexer(self.long["patient_id"]),
                self.exists.columns.get_indexer(self.long["gating_path"]),
            )
        return self.__dict__["_positions"]

    def rows_of(self, patients: pd.Index) -> np.ndarray:
        """Row of each of ``patients`` in the table's arrays (-1 for a patient without rows), cached."""
        cached = self.__dict__.get("_rows_of")
        if cached is None or cached[0] is not patients:
            cached = (patients, self.exists.index.get_indexer(patients))
            self.__dict__["_rows_of"] = cached
        return cached[1]

    def _raise_missing_parent(self, path: str, chain: Sequence[str], target_exists: pd.Series) -> None:
        rows = self.long.loc[self.long["gating_path"] == path].copy()
        missing = []
        for pid in rows["patient_id"]:
            gaps = [g for g in chain if not bool(self.column(self.exists, g, False).get(pid, False))]
            missing.append(", ".join(gaps))
        rows["missing_parent"] = missing
        raise_bad_rows(
            rows,
            rows["missing_parent"] != "",
            "gating_path",
            "has no row for its parent gate (see missing_parent)",
            source=self.source,
            extra=["missing_parent"],
            hint="Add the parent gate's row (its freq_of_parent) or remove the orphan population.",
        )


@check_params(
    of=TEXT,
    timepoint=TEXT,
    source=TEXT,
)
def population_frequencies(
    immunophenotype: pd.DataFrame,
    paths: Sequence[str] | None = None,
    *,
    of: str | None = ROOT,
    timepoint: str | None = "baseline",
    source: str | None = None,
) -> pd.DataFrame:
    """Percent of each population among lymphocytes (or any ancestor), one row per patient.

    Parameters
    ----------
    immunophenotype : DataFrame
        Long gating table (see ``docs/data-format.md``).
    paths : sequence of str, optional
        Populations to compute (default: every gating path of the table at or
        below ``of``, or below the root gate when ``of`` is None).
    of : str or None
        Reference gate, an ancestor of every path (default ``"Lymphocytes"``);
        None gives percent of leukocytes (includes the root gate's frequency).
    timepoint : str or None
        Timepoint to use.
    source : str, optional
        File name for error messages.

    Returns
    -------
    DataFrame indexed by ``patient_id``, one column per path, values in percent.

    Examples
    --------
    >>> import pandas as pd
    >>> imm = pd.DataFrame({"patient_id": ["P1"] * 3, "timepoint": ["baseline"] * 3,
    ...     "gating_path": ["Lymphocytes", "Lymphocytes/CD3+", "Lymphocytes/CD3+/CD4+"],
    ...     "freq_of_parent": [40.0, 50.0, 60.0]})
    >>> float(population_frequencies(imm, ["Lymphocytes/CD3+/CD4+"]).iloc[0, 0])
    30.0
    """
    table = GateTable(immunophenotype, timepoint, source=source)
    if paths is None:
        root = ROOT if of is None else normalise_path(of)
        paths = sorted((p for p in table.exists.columns if root in split_path(p)), key=lambda p: (p.count("/"), p))
    out = {p: table.fraction(p, of).values * 100.0 for p in paths}
    frame = pd.DataFrame(out, index=pd.Index(list(table.exists.index), name="patient_id"))
    return frame
