"""Plot helpers for the referral engine (matplotlib imported lazily)."""

from __future__ import annotations

from typing import Any

from chainmall._optional import import_optional
from chainmall.referral.dashboard import team_members
from chainmall.referral.settlement import Settlement

__all__ = ["plot_team_tree"]


def plot_team_tree(
    settlement: Settlement, user_id: int, *, max_depth: int = 3, ax: Any = None
) -> Any:
    """Draw the member's current team tree (levels top-down); return the Axes."""
    plt = import_optional("matplotlib.pyplot", extra="plot")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    team = team_members(settlement, user_id, max_depth=max_depth)
    pos: dict[int, tuple[float, float]] = {user_id: (0.5, 0.0)}
    for level in sorted(set(team["level"].tolist())):
        ids = team.loc[team["level"] == level, "user_id"].tolist()
        for i, node in enumerate(ids):
            pos[node] = ((i + 1) / (len(ids) + 1), -float(level))
    for child, parent in zip(team["user_id"], team["parent_id"], strict=True):
        (x0, y0), (x1, y1) = pos[int(parent)], pos[int(child)]
        ax.plot([x0, x1], [y0, y1], color="0.6", linewidth=0.8, zorder=1)
    xs, ys = zip(*pos.values(), strict=True)
    ax.scatter(xs, ys, s=60, zorder=2)
    for node, (x, y) in pos.items():
        ax.annotate(
            str(node), (x, y), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=7
        )
    ax.set_title(f"team of member {user_id} ({len(team)} members, {max_depth} levels)")
    ax.set_yticks([-i for i in range(max_depth + 1)])
    ax.set_yticklabels([f"level {i}" for i in range(max_depth + 1)])
    ax.set_xticks([])
    return ax
