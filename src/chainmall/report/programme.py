"""The "programme" section: a 2+1 programme read back from its :class:`~chainmall.referral.ReferralStore`.

Everything shown comes from the store, never from the shop's frames: the team
performance board (团队业绩看板, :func:`chainmall.referral.dashboard` on
``store.settlement()`` and ``store.events()``), one member's fission path
(裂变路径) and commission detail (佣金明细) by the shop's own id, the balances
summary, the published tree head and the verdict of ``store.audit()``.

The demo (:func:`programme`) first ingests the shop's events into a SQLite file in
a temporary folder (one ``ingest`` call, event ids ``shop-<seq>``) and reads that
file back; :func:`store_section` reads any store the caller opened, and
:func:`programme_builder` one given by URL. Money is integer fen throughout and
only formatted as yuan (:func:`yuan`); no float arithmetic on money.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from chainmall.datasets import Shop
from chainmall.report.figures import png
from chainmall.report.section import Section

if TYPE_CHECKING:
    from chainmall.referral import ReferralStore, Settlement

__all__ = [
    "programme",
    "programme_builder",
    "shop_events",
    "shop_store",
    "store_section",
    "yuan",
]

BOARD_ROWS = 10
"""Members on the performance board (largest team GMV first)."""
DETAIL_ROWS = 20
"""Latest commission-detail entries shown for the member."""
PICK_DEPTH = 2
"""The default member is at least this many invites below the root of its tree, if any is."""
ACCOUNTS = ("pending", "available", "reserved", "receivable", "withdrawn")


def yuan(fen: Any) -> str:
    """Integer fen as a yuan string (``-1234`` -> ``"-12.34"``; missing -> ``"–"``)."""
    if pd.isna(fen):
        return "–"
    value = int(fen)
    sign = "-" if value < 0 else ""
    whole, cents = divmod(abs(value), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def _yuan_columns(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Replace each ``<name>_fen`` column by a formatted ``<name>_yuan`` text column."""
    renamed = {c: c.removesuffix("_fen") + "_yuan" for c in columns}
    out = frame.assign(**{c: frame[c].map(yuan) for c in columns})
    return out.rename(columns=renamed)


def shop_events(shop: Shop) -> pd.DataFrame:
    """The shop's referral events with an ``event_id`` per event (``shop-<seq>``), ``seq`` dropped."""
    from chainmall.referral import events_from_shop

    frame = events_from_shop(shop)
    ids = "shop-" + frame["seq"].astype("int64").astype(str).str.zfill(7)
    return frame.assign(event_id=ids).drop(columns="seq")


def shop_store(shop: Shop, url: str) -> ReferralStore:
    """A new programme at ``url`` holding the shop's events (one ``ingest`` call)."""
    from chainmall.referral import ReferralConfig, ReferralStore

    store = ReferralStore.open(url, ReferralConfig())
    store.ingest(shop_events(shop))
    return store


def programme(shop: Shop, member: Any = None) -> Section:
    """The demo: the shop's events ingested into a temporary SQLite file, then read back."""
    with tempfile.TemporaryDirectory(prefix="chainmall-report-") as folder:
        store = shop_store(shop, f"sqlite:///{Path(folder) / 'programme.db'}")
        try:
            source = "a SQLite file in a temporary folder, holding the shop's events"
            return store_section(store, member=member, source=source)
        finally:
            store.close()


def _from_url(url: str, member: Any, shop: Shop) -> Section:
    from sqlalchemy.engine import make_url

    from chainmall.referral import ReferralStore

    store = ReferralStore.open(url)
    try:
        shown = make_url(url).render_as_string(hide_password=True)
        return store_section(store, member=member, source=shown)
    finally:
        store.close()


def programme_builder(
    target: str | ReferralStore | None, member: Any = None
) -> Callable[[Shop], Section]:
    """A section builder reading ``target`` (a store URL or an open store; ``None``: the demo).

    A URL is opened (its stored config, programme ``default``) and closed after
    reading; a store given open stays open. ``member``: whose path and commission
    detail to show (the shop's own id; ``None`` picks one, see :func:`store_section`).
    """
    if target is None:
        return partial(programme, member=member)
    if isinstance(target, str):
        return partial(_from_url, target, member)
    return lambda shop: store_section(target, member=member, source="the store given")


def _pick_member(settlement: Settlement, board: pd.DataFrame) -> Any:
    """The member with the most ledger entries among those ``PICK_DEPTH`` invites deep or more.

    Falls back to all earners, then to every member; ties go to the deeper member.
    """
    counts = settlement.entries["user_id"].value_counts()
    ranked = board.assign(entries=board["user_id"].map(counts).fillna(0).astype("int64"))
    for candidates in (
        ranked[(ranked["entries"] > 0) & (ranked["inviter_depth"] >= PICK_DEPTH)],
        ranked[ranked["entries"] > 0],
        ranked,
    ):
        if len(candidates):
            break
    order = candidates.sort_values(["entries", "inviter_depth"], ascending=False, kind="stable")
    return order["user_id"].iloc[0]


def _board(board: pd.DataFrame) -> pd.DataFrame:
    top = board.sort_values("team_gmv_fen", ascending=False, kind="stable").head(BOARD_ROWS)
    top = top.reset_index(drop=True)
    top.insert(0, "rank", np.arange(1, len(top) + 1))
    money = ["team_gmv_fen", "pending_fen", "available_fen", "receivable_fen"]
    return _yuan_columns(top, money)


def _path_table(path: list[Any], settlement: Settlement, board: pd.DataFrame) -> pd.DataFrame:
    """One row per member of the path; team figures only for members (others: missing)."""
    status = settlement.users.set_index("user_id")["status"].astype(str)
    known = board.set_index("user_id")
    rows = pd.DataFrame(
        {
            "level": np.arange(len(path)),
            "user_id": path,
            "status": status.reindex(path).to_numpy(),
            "team_size": known["team_size"].reindex(path).astype("Int64").array,
            "team_gmv_fen": known["team_gmv_fen"].reindex(path).astype("Int64").array,
        }
    )
    return _yuan_columns(rows, ["team_gmv_fen"])


def _detail_table(detail: pd.DataFrame, when: pd.Series) -> pd.DataFrame:
    shown = detail.tail(DETAIL_ROWS).assign(
        paid_ts=lambda f: f["seq"].map(when).dt.strftime("%Y-%m-%d %H:%M")
    )
    columns = ["seq", "paid_ts", "kind", "reward_type", "buyer_id", "order_id", "month"]
    money = ["base_fen", "gross_fen", "cap_cut_fen", "amount_fen"]
    table = shown[[*columns, "rate_bp", *money]].rename(columns={"paid_ts": "event ts (UTC)"})
    return _yuan_columns(table, money).reset_index(drop=True)


def _balances_table(balances: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for account in ACCOUNTS:
        fen = balances[f"{account}_fen"].astype("int64")
        rows.append((account, int((fen != 0).sum()), yuan(int(fen.sum()))))
    return pd.DataFrame(rows, columns=["account", "members", "total_yuan"])


def _draw(board: pd.DataFrame, detail: pd.DataFrame, when: pd.Series, member: Any) -> bytes:
    top = board.sort_values("team_gmv_fen", ascending=False, kind="stable").head(BOARD_ROWS)
    labels = [str(u) for u in top["user_id"]]
    steps = detail["amount_fen"].astype("int64").cumsum()  # integer fen
    times = detail["seq"].map(when)

    def fen_ticks(value: float, _: Any) -> str:
        return yuan(round(value))

    def draw(axes: Any) -> None:
        from matplotlib.ticker import FuncFormatter

        axes[0].barh(labels[::-1], top["team_gmv_fen"].to_numpy()[::-1], color="#2f6fb3")
        axes[0].xaxis.set_major_formatter(FuncFormatter(fen_ticks))
        axes[0].tick_params(axis="x", labelrotation=30, labelsize=7)
        axes[0].set_title(f"team GMV (yuan), top {len(top)} members")
        if len(detail):
            axes[1].step(times, steps, where="post", color="#e07b39")
            axes[1].yaxis.set_major_formatter(FuncFormatter(fen_ticks))
            axes[1].tick_params(axis="x", labelrotation=45, labelsize=7)
        else:
            axes[1].text(0.5, 0.5, "no ledger entries", ha="center", transform=axes[1].transAxes)
        axes[1].set_title(f"member {member}: net commission to date (yuan)")

    return png(draw, ncols=2, size=(11, 3.8))


def _audit_text(report: Any) -> str:
    if report.clean:
        return (
            f"Audit: clean (the replay of {report.events:,} stored events through settle "
            f"gives the same {report.entries:,} ledger entries, accounts and Merkle root)."
        )
    return f"Audit: the audit found {len(report.problems)} problem(s); see the table below."


def store_section(store: ReferralStore, *, member: Any = None, source: str = "") -> Section:
    """The programme section from an open store (read only; nothing is written).

    Args:
        store: the programme to show.
        member: whose fission path and commission detail to show, by the shop's
            own id; ``None``: the member with the most ledger entries among those
            at least ``PICK_DEPTH`` invites below the root of their inviter tree.
        source: where the store is, for the intro (e.g. a URL without password).
    """
    from chainmall.referral import commission_detail, dashboard, fission_path

    settlement, events = store.settlement(), store.events()
    board = dashboard(settlement, events)
    chosen = _pick_member(settlement, board) if member is None else member
    detail = commission_detail(settlement, chosen)
    path = fission_path(settlement, chosen)
    when = events.drop_duplicates("seq").set_index("seq")["ts"]
    head, report = store.head(), store.audit()
    store_rows = pd.DataFrame(
        {
            "measure": ["programme", "events", "tree head size", "tree head root", "audit"],
            "value": [
                store.programme,
                f"{int(events['seq'].nunique()):,}",
                f"{head.size:,}",
                head.root,
                "clean" if report.clean else f"problems ({len(report.problems)})",
            ],
        }
    )
    tables = [
        (f"Team performance board (团队业绩看板), top {BOARD_ROWS} by team GMV", _board(board)),
        (f"Fission path (裂变路径) of member {chosen}", _path_table(path, settlement, board)),
        (
            f"Commission detail (佣金明细) of member {chosen}: latest "
            f"{min(len(detail), DETAIL_ROWS)} of {len(detail)} entries",
            _detail_table(detail, when),
        ),
        ("Balances (all members)", _balances_table(store.balances())),
        ("Store, tree head and audit", store_rows),
    ]
    if not report.clean:
        tables.append(("Audit problems", pd.DataFrame({"problem": list(report.problems)})))
    chain = " → ".join(str(u) for u in path)
    return Section(
        key="programme",
        title="Referral programme (from the store)",
        intro=f"A 2+1 programme read back from its ReferralStore ({source}): the team "
        "performance board, one member's fission path and commission detail by the shop's "
        f"own id, the balances, the published tree head and the audit. Fission path of "
        f"member {chosen}: {chain}. {_audit_text(report)}",
        figures=(("Team GMV and the member's commission", _draw(board, detail, when, chosen)),),
        tables=tuple(tables),
        summary={
            "events": int(events["seq"].nunique()),
            "ledger_entries": head.size,
            "audit_problems": len(report.problems),
        },
    )
