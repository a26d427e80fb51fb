"""Group labels read as response: clinical order, the pair compared head to head, and each group's colour.

A label such as ``"CR"``, ``True``, ``1`` or "Responder" reads as responding, ``"NR"``, ``False``,
``0`` or "Non-responder" as not responding and ``"PR"`` as partly responding
(:func:`response_role`); groups are drawn in clinical order (:func:`order_groups`), the effect of
two groups is "responding − not responding" (:func:`default_pair`) and a responding group always
has the responder colour (:func:`group_colors`).  :mod:`._style` re-exports these names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .._params import COLORS, check_params
from ..errors import ImmuneCorrelatesError
from ._palette import PALETTE, RESPONSE_COLORS

__all__ = ["RESPONSE_ORDER", "response_role", "order_groups", "default_pair", "group_colors"]


RESPONSE_ORDER = ("NR", "PR", "CR")


#: Group labels read as responding, partly responding or not responding (compared lower-case).
_ROLE_WORDS = {
    "responder": {
        "cr",
        "cri",
        "cr/cri",
        "cr or cri",
        "responder",
        "responders",
        "response",
        "responded",
        "complete remission",
        "complete response",
        "remission",
        "yes",
        "y",
        "true",
        "1",
        "1.0",
    },
    "partial": {"pr", "npr", "partial response", "partial remission", "partial responder"},
    "non": {
        "nr",
        "non-responder",
        "non-responders",
        "nonresponder",
        "non responder",
        "no response",
        "not cr",
        "non-cr",
        "no cr",
        "no",
        "n",
        "false",
        "0",
        "0.0",
        "pd",
        "sd",
        "refractory",
    },
}


_ROLE_ORDER = ("non", "partial", "responder")


def response_role(level) -> str | None:
    """``"responder"``, ``"partial"``, ``"non"`` or None: what a group label says about response.

    Examples
    --------
    >>> [response_role(g) for g in ("CR", "Non-responder", True, 0, "arm A")]
    ['responder', 'non', 'responder', 'non', None]
    """
    text = str(level).strip().lower().replace("−", "-")
    for role, words in _ROLE_WORDS.items():
        if text in words:
            return role
    return None


def _roles(levels: Sequence) -> list | None:
    """The response role of every level, when each has one and they differ."""
    roles = [response_role(g) for g in levels]
    if len(levels) < 2 or None in roles or len(set(roles)) != len(roles):
        return None
    return roles


def order_groups(levels: Sequence) -> list:
    """Groups in clinical order, not responding first (NR, PR, CR; False, True); others unchanged."""
    levels = list(levels)
    roles = _roles(levels)
    if roles is not None:
        return [g for _, g in sorted(zip(roles, levels), key=lambda rg: _ROLE_ORDER.index(rg[0]))]
    return levels


def default_pair(levels: Sequence) -> tuple:
    """The two groups compared head to head, responding group first (its effect is "first − second").

    With response labels: the responding group and the non-responding one
    (``("CR", "NR")``, ``(True, False)``, ``("Responder", "Non-responder")``);
    otherwise the first two levels in their order.
    """
    levels = list(levels)
    roles = _roles(levels)
    if roles is not None and "non" in roles and "responder" in roles:
        return levels[roles.index("responder")], levels[roles.index("non")]
    return tuple(levels[:2])


@check_params(
    colors=COLORS,
)
def group_colors(levels: Sequence, *, colors: Mapping | Sequence | None = None) -> dict:
    """Colour of each group label.

    Colours carry meaning: a responding group (``CR``, ``1``, ``True``,
    "Responder", "yes") always gets the responder colour, a non-responding one
    (``NR``, ``0``, ``False``, "Non-responder", "no") the non-responder colour
    and partial responders (``PR``) their own, whatever the order of the
    labels; other labels take :data:`PALETTE` in order.  ``colors``
    overrides: a mapping label -> colour or a list in the order of ``levels``.
    """
    levels = list(levels)
    if colors is not None:
        if isinstance(colors, Mapping):
            missing = [g for g in levels if g not in colors]
            if missing:
                raise ImmuneCorrelatesError(f"colors: no colour given for group(s) {missing}; groups: {levels}.")
            return {g: colors[g] for g in levels}
        colors = list(colors)
        if len(colors) < len(levels):
            raise ImmuneCorrelatesError(f"colors: {len(colors)} colour(s) for {len(levels)} groups {levels}.")
        return dict(zip(levels, colors))
    roles = _roles(levels)
    if roles is not None:
        by_role = {"responder": RESPONSE_COLORS["CR"], "partial": RESPONSE_COLORS["PR"], "non": RESPONSE_COLORS["NR"]}
        return {g: by_role[r] for g, r in zip(levels, roles)}
    return {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(levels)}
