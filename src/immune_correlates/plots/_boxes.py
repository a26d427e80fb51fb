"""Boxes, dots and group ticks of :func:`immune_correlates.plots.response_boxplot`, as named steps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.colors import to_rgb

from .. import _seeds
from ._style import wrap_label

__all__ = ["draw_boxes", "group_ticks"]


def draw_boxes(
    ax,
    samples: Sequence[np.ndarray],
    levels: Sequence,
    palette: Mapping,
    *,
    jitter: float,
    point_size: float,
    seed: int,
) -> None:
    """A box (quartiles, whiskers at 1.5 IQR) and one jittered dot per patient for each group."""
    pos = np.arange(len(levels), dtype=float)
    drawn = [i for i, s in enumerate(samples) if s.size]
    bp = ax.boxplot(
        [samples[i] for i in drawn],
        positions=pos[drawn],
        widths=0.55,
        showfliers=False,
        patch_artist=True,
        manage_ticks=False,
        whis=1.5,
    )
    for box, i in zip(bp["boxes"], drawn):
        c = palette[levels[i]]
        box.set(facecolor=(*to_rgb(c), 0.18), edgecolor=c, linewidth=1.2)
        box.set_gid(f"box:{levels[i]}")
    for part in ("whiskers", "caps"):
        for j, line in enumerate(bp[part]):
            g = levels[drawn[j // 2]]  # two whiskers and two caps per box
            line.set(color=palette[g], linewidth=1.0, gid=f"{part[:-1]}:{g}")
    for line, i in zip(bp["medians"], drawn):
        line.set(color="black", linewidth=1.6, gid=f"median:{levels[i]}")
    rng = _seeds.rng(seed, caller="response_boxplot")
    for i, g in enumerate(levels):
        x = pos[i] + rng.uniform(-jitter, jitter, samples[i].size)
        ax.scatter(
            x, samples[i], s=point_size, color=palette[g], edgecolor="white", linewidth=0.5, zorder=3, gid=f"points:{g}"
        )


def group_ticks(ax, names: Sequence[str], counts: Sequence[int], width_in: float) -> None:
    """Group names (wrapped at spaces only, never inside a word) and their n under the boxes."""
    n_groups = len(names)
    tick_size = 9 if n_groups <= 3 else 8
    per_group = max(6, int(0.8 * width_in / n_groups * 72.0 / (0.62 * tick_size)))  # after layout, wide glyphs
    ax.set_xticks(
        np.arange(n_groups, dtype=float), [f"{wrap_label(n, per_group)}\n(n={k})" for n, k in zip(names, counts)]
    )
    ax.tick_params(axis="x", labelsize=tick_size)
    ax.set_xlim(-0.6, n_groups - 0.4)
