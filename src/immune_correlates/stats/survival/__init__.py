"""Time-to-event estimators beyond the Cox model itself.

Lives here: Kaplan-Meier and log-rank (``kaplan_meier``, ``logrank``), hazard ratios between
groups, maximally selected cut points, counting-process data and response as a
time-dependent event (``time_dependent``, ``mantel_byar``), competing risks (Aalen-Johansen,
Gray's test, Fine-Gray regression).

May import: the package floor, :mod:`..engine` and :mod:`..regression`.
"""
