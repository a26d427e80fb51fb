"""Shared behaviour of result objects: a tidy ``summary()`` and notebook display."""

from __future__ import annotations

import html

import pandas as pd

__all__ = ["ResultDisplay", "TabledTestDisplay"]


class ResultDisplay:
    """Mixin for frozen result dataclasses that define ``summary()``.

    Subclasses provide ``summary() -> DataFrame`` and may override
    ``_title()`` and ``_notes()`` (a list of plain-text lines shown under the
    table: the method used, excluded patients, warnings).
    """

    def summary(self) -> pd.DataFrame:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def _title(self) -> str:
        return type(self).__name__

    def _notes(self) -> list[str]:
        return []

    def __repr__(self) -> str:
        with pd.option_context("display.width", 120, "display.max_columns", 20):
            body = self.summary().to_string()
        notes = "\n".join(self._notes())
        return f"{self._title()}\n{body}" + (f"\n{notes}" if notes else "")

    def _repr_html_(self) -> str:
        table = self.summary().to_html(float_format=lambda v: f"{v:.4g}", escape=True)
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self._notes())
        return (
            f"<div><strong>{html.escape(self._title())}</strong>{table}"
            + (f"<ul>{notes}</ul>" if notes else "")
            + "</div>"
        )


class TabledTestDisplay(ResultDisplay):
    """Mixin for a test result with a per-group ``table`` and ``statistic``, ``df``, ``pvalue``."""

    table: pd.DataFrame
    statistic: float
    df: int
    pvalue: float

    def summary(self) -> pd.DataFrame:
        """Per-group table with the test's statistic, df and p-value."""
        out = self.table.copy()
        out["statistic"] = self.statistic
        out["df"] = self.df
        out["p_value"] = self.pvalue
        return out
