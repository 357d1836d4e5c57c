"""Contract cases of ``chainmall.referral`` (the valid programme: ``referral_log.py``).

Event logs: for ``settle`` and ``fold`` a part (:data:`~tests.contract.referral_log.PARTS`)
is the argument under mutation and the call passes ``HISTORY`` + part (a list, or
a frame with a repeated column, is passed alone; a dtype the concatenation
widens, such as uint64, reaches the library widened: the store takes the part as
it is). Bad rows may be rejected rows naming the column; the valid calls reject
nothing, and on them the fold and the batch path agree.

Typed events (``apply``, ``events_to_frame``) are built from the rows of a small
frame, one order per row, so the column mutations reach their fields. Their
``ts`` is not mutated (each typed event has its own zone, so the frame's
mixed-zone mutation does not apply); naive and out-of-range instants are tried
through the frame path. Typing and conversion (``events_from_frame``,
``events_to_frame``) leave amounts, signs and repeated ids to the rules, which
are tried through ``settle``, ``fold`` and the store.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from functools import cache, partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from chainmall.exceptions import ChainmallError, DataValidationError
from chainmall.ledger import TreeHead
from chainmall.referral import (
    HealthConfig,
    IngestReport,
    OrderLine,
    OrderPaid,
    ReferralState,
    ReferralStore,
    Settlement,
    TaxConfig,
    apply,
    badges,
    close_months,
    commission_detail,
    compliance_report,
    dashboard,
    events_from_frame,
    events_from_frames,
    events_to_frame,
    fission_path,
    fold,
    health_report,
    hold_events,
    monthly_statements,
    quarterly_export,
    settle,
    statement_records,
    version_registry,
    withholding,
)
from tests.contract.referral_log import (
    COLUMNS,
    CONFIG,
    HISTORY,
    ID,
    LABEL,
    LOG_COLUMNS,
    PARTS,
    SEQ,
    T0,
    VERSIONS,
    full_log,
    named,
    rows_of,
    settled,
    with_history,
)
from tests.contract.spec import Arg, Args, Case, Col

FRAME = Arg("frame")
PART = Arg("frame", empty_ok=True)  # nothing after the history is a valid log
OBJECT = Arg("object")
OPTIONAL = Arg("object", allow_none=True)


def _same_ledger(result: Settlement, log: pd.DataFrame) -> None:
    """Nothing rejected, and the fold and the batch path agree (same Merkle root)."""
    assert result.rejected.empty, f"the valid log was rejected: {result.rejected}"
    assert settle(log, CONFIG, VERSIONS).merkle_root() == fold(log, CONFIG, VERSIONS).merkle_root()


def _copy(frame: pd.DataFrame) -> Args:
    return {"events": frame.copy()}


def _log_cases(path: str, run: Any) -> list[Case]:
    """``path`` (settle or fold) on the history, then on each part after it."""
    cases = [
        Case(
            f"referral.{path}.log",
            build=lambda: {"events": HISTORY.copy()},
            call=lambda a: run(a["events"], CONFIG, VERSIONS),
            columns={"events": LOG_COLUMNS},
            args={"events": PART},
            rejected=lambda result: named(result.rejected),
            check=lambda result, args: _same_ledger(result, args["events"]),
        )
    ]
    for kind, columns in COLUMNS.items():
        cases.append(
            Case(
                f"referral.{path}.{kind.lower()}",
                build=partial(_copy, PARTS[kind]),
                call=lambda a: run(with_history(a["events"]), CONFIG, VERSIONS),
                columns={"events": columns},
                args={"events": PART},
                rejected=lambda result: named(result.rejected),
                check=lambda result, args: _same_ledger(result, with_history(args["events"])),
            )
        )
    return cases


# -- typed events -------------------------------------------------------------------

TYPED = PARTS["ORDER_PAID"].drop(columns=["type", "ts"]).head(3)
ORDER_IDS = ("order_id", "user_id", "line_id")
Applied = tuple[ReferralState, list[dict[str, Any]]]


def typed_orders(frame: pd.DataFrame, *, numpy: bool = False) -> list[OrderPaid]:
    """One single-line ``OrderPaid`` per row, holding the row's values as Python values
    (``numpy``: as the frame's numpy scalars); a dropped balance takes the default."""
    values = {c: list(frame[c].to_numpy() if numpy else frame[c].tolist()) for c in frame}
    events = []
    for row in range(len(frame)):
        field: dict[str, Any] = dict.fromkeys(("seq", *ORDER_IDS, "amount_fen"))
        field |= {str(c): v[row] for c, v in values.items()}
        balance = {k: v for k, v in field.items() if k == "balance_paid_fen"}
        line = OrderLine(field["line_id"], field["amount_fen"], **balance)
        ts = T0 + timedelta(days=30, minutes=row)
        events.append(OrderPaid(field["seq"], ts, field["order_id"], field["user_id"], (line,)))
    return events


@cache
def _history_state() -> ReferralState:
    state = ReferralState()
    for event in events_from_frame(HISTORY):
        state, _ = apply(state, event, CONFIG, VERSIONS)
    return state


def _apply_all(frame: pd.DataFrame, *, numpy: bool = False) -> Applied:
    """Apply each row's order to a copy of the history's state, in row order."""
    state = _history_state().copy()
    records: list[dict[str, Any]] = []
    for event in typed_orders(frame, numpy=numpy):
        state, out = apply(state, event, CONFIG, VERSIONS)
        records.extend(out)
    return state, records


def _check_applied(result: Applied, args: Args) -> None:
    assert not list(result[0].rejected), f"valid orders rejected: {list(result[0].rejected)}"
    paid = {r["order_id"] for r in result[1] if r["kind"] == "COMMISSION"}
    assert paid == set(args["events"]["order_id"]), f"orders without commission: {paid}"


def _untyped(result: list[Any]) -> pd.DataFrame:
    """The rows ``events_from_frame`` could not type, as a rejected frame."""
    rows = [e for e in result if isinstance(e, tuple)]
    return named(pd.DataFrame(rows, columns=["seq", "type", "reason"]))


def _check_typed(result: list[Any], frame: pd.DataFrame) -> None:
    assert len(result) == frame["seq"].nunique(), "not one typed event per seq"
    assert not [e for e in result if isinstance(e, tuple)], "valid rows left untyped"


def _typed_cases() -> list[Case]:
    typing = {"seq": Col("count", ge=1, rows_rejected=True), "type": LABEL, "ts": Col("time")}
    return [
        Case(
            f"referral.events_from_frame.{name}",
            build=partial(_copy, frame),
            call=lambda a: events_from_frame(a["events"]),
            columns={"events": columns},
            args={"events": PART},
            rejected=_untyped,
            check=lambda result, args: _check_typed(result, args["events"]),
        )
        for name, frame, columns in (
            ("log", HISTORY, typing),
            ("order_paid", PARTS["ORDER_PAID"], dict.fromkeys(ORDER_IDS, ID)),
        )
    ] + [
        Case(
            "referral.apply",
            build=lambda: {"events": TYPED.copy()},
            call=lambda a: _apply_all(a["events"]),
            columns={"events": {"seq": SEQ, **COLUMNS["ORDER_PAID"]}},
            rejected=lambda result: named(
                pd.DataFrame(list(result[0].rejected), columns=["seq", "type", "reason"])
            ),
            check=_check_applied,
        ),
        Case(
            "referral.apply.numpy_scalars",
            build=lambda: {"events": TYPED.copy()},
            call=lambda a: _apply_all(a["events"], numpy=True),
            check=_check_applied,
        ),
        Case(
            "referral.events_to_frame",
            build=lambda: {"events": TYPED.copy()},
            call=lambda a: events_to_frame(typed_orders(a["events"])),  # type: ignore[arg-type]
            columns={
                "events": {"seq": Col("count", ge=1)}
                | dict.fromkeys(ORDER_IDS, Col("id", nullable=True, required=False))
            },
            check=lambda result, args: _check_equal(
                events_from_frame(result), typed_orders(args["events"])
            ),
        ),
    ]


# -- shop tables --------------------------------------------------------------------


def shop_tables() -> dict[str, pd.DataFrame]:
    """Six members (2, 3 invited by 1; 4, 5 by 2), five orders (one in transit), a refund."""
    at = pd.Timestamp("2025-03-03", tz="Asia/Shanghai") + pd.to_timedelta(range(6), unit="h")
    invited = pd.array([None, 1, 1, 2, 2, None], dtype="Int64")
    members = {"user_id": np.arange(1, 7), "registered_at": at, "inviter_id": invited}
    lines: dict[str, Any] = {
        "line_id": np.arange(100, 105),
        "order_id": np.arange(10, 15),
        "user_id": np.arange(1, 6),
        "paid_fen": np.array([10_000, 5_000, 7_000, 3_333, 8_000]),
        "balance_paid_fen": np.array([0, 0, 100, 0, 0]),
        "paid_at": at[:5] + pd.Timedelta("1D"),
    }
    received = (at[:5] + pd.Timedelta("3D")).where([True, True, True, True, False])
    refunded = [at[0] + pd.Timedelta("5D")]
    return {
        "members": pd.DataFrame(members | {"bound_at": at.where(~invited.isna())}),
        "orders": pd.DataFrame({"order_id": np.arange(10, 15), "received_at": received}),
        "order_lines": pd.DataFrame(lines),
        "refunds": pd.DataFrame(
            {"refund_id": [900], "line_id": [102], "amount_fen": [1_000], "refunded_at": refunded}
        ),
    }


SHOP_COLUMNS = {
    "members": {"user_id": Col("id"), "registered_at": Col("time")}
    | {"inviter_id": Col("id", nullable=True)},
    "orders": {"order_id": Col("id"), "received_at": Col("time", nullable=True)},
    "order_lines": dict.fromkeys(("line_id", "order_id", "user_id"), Col("id"))
    | {"paid_fen": Col("money"), "balance_paid_fen": Col("money"), "paid_at": Col("time")},
    "refunds": {"refund_id": Col("id"), "line_id": Col("id"), "amount_fen": Col("money")}
    | {"refunded_at": Col("time")},
}
"""Shop tables become events as given: a sign, a repeated or unknown id is the rules' to
reject. ``bound_at`` is read only for invited members, so it is not declared."""


def _check_shop_events(result: pd.DataFrame, args: Args) -> None:
    rejected = settle(result, CONFIG).rejected
    assert rejected.empty, f"events of valid tables rejected: {rejected}"
    assert (result["type"] == "ORDER_PAID").sum() == len(args["order_lines"])


# -- the store ----------------------------------------------------------------------


STORED = {"event_id": Col("id", unique=True)} | {
    k: COLUMNS["ORDER_PAID"][k] for k in ("user_id", "amount_fen")
}
"""The store's own key, an id and the amount of an order (its other columns are tried
through settle and fold: every call here opens a database)."""


@dataclass(frozen=True)
class Ingested:
    """One ingest into a fresh store: its report, and the head read back after a clean one."""

    report: IngestReport
    reopened: TreeHead | None


def with_event_ids(part: pd.DataFrame) -> pd.DataFrame:
    """``part`` with the caller's ``event_id`` in place of ``seq``."""
    ids = [f"{kind}-{seq}" for kind, seq in zip(part["type"], part["seq"], strict=True)]
    return part.drop(columns="seq").assign(event_id=ids)


@cache
def _template() -> tuple[Path, TreeHead, int]:
    """A SQLite file holding the history (copied per call, so every call starts fresh),
    its tree head and its number of events."""
    folder = tempfile.mkdtemp(prefix="chainmall-referral-store-")
    atexit.register(shutil.rmtree, folder, True)
    path = Path(folder) / "template.db"
    store = ReferralStore.open(f"sqlite:///{path}", CONFIG, VERSIONS)
    store.ingest(with_event_ids(HISTORY))
    head, n_events = store.head(), len(store.event_log())
    store.close()
    return path, head, n_events


def _ingest(events: Any) -> Ingested:
    """Ingest ``events`` into a copy of the template. A refusal must be a
    DataValidationError and change nothing; a rejected event must post no entry."""
    template, before, n_events = _template()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{shutil.copyfile(template, Path(folder) / 'programme.db')}"
        store = ReferralStore.open(url, CONFIG, VERSIONS)
        try:
            try:
                report = store.ingest(events)
            except ChainmallError as exc:
                changed = (store.head(), len(store.event_log())) != (before, n_events)
                assert not changed, f"a refused ingest changed the store: {exc}"
                assert isinstance(exc, DataValidationError), f"{type(exc).__name__}: {exc}"
                raise
            if not report.rejected.empty:
                posted = store.entries(since=before.size)["seq"]
                assert not posted.isin(report.rejected["seq"]).any(), "rejected event posted"
                return Ingested(report, None)
        finally:
            store.close()
        reopened = ReferralStore.open(url)
        try:
            return Ingested(report, reopened.head())
        finally:
            reopened.close()


def _check_ingested(result: Ingested, args: Args) -> None:
    report, before = result.report, _template()[1]
    assert report.rejected.empty, f"valid events rejected: {report.rejected}"
    assert report.head.size == before.size + report.entries > before.size
    assert result.reopened == report.head, "the reopened store differs from the committed one"


# -- reports on a settlement ----------------------------------------------------------

PAYOUT_COLUMNS = {"user_id": Col("id"), "month": Col("label")} | dict.fromkeys(
    ("gross_fen", "withheld_fen", "net_fen"), Col("money", ge=0)
)
DASHBOARD_COLUMNS = {"type": Col("label"), "user_id": Col("id"), "amount_fen": Col("money", ge=0)}
DASHBOARD_COLUMNS |= {"balance_paid_fen": Col("money", ge=0, nullable=True, required=False)}
"""The order lines the dashboard's team GMV is made of."""
MEMBER = Arg("count", ge=1)
"""A member id of the settlement (ids 1-14): anything else names nobody."""
HEALTH = HealthConfig(min_team_size=1, n_estimators=10)


@cache
def _payouts() -> pd.DataFrame:
    return withholding(settled("WITHDRAWAL"), rows_of("WITHDRAWAL"))


def _check_equal(got: Any, want: Any) -> None:
    assert got == want, f"got {got!r}, want {want!r}"


def _check_payouts(result: pd.DataFrame, args: Args) -> None:
    assert len(result) == len(args["events"]), "not one row per payout"
    assert (result["withheld_fen"] + result["net_fen"] == result["gross_fen"]).all()


def _check_dashboard(result: pd.DataFrame, args: Args) -> None:
    balances = settled("ORDER_PAID").balances.set_index("user_id")["pending_fen"]
    shown = result.set_index("user_id")["pending_fen"].reindex(balances.index, fill_value=0)
    assert (shown == balances).all(), "balances differ from the settlement's"


def _check_points(result: pd.DataFrame, args: Args) -> None:
    """Buyers 1-7 earned order points at the tick; 1, 2, 4, 5 shared outside WeChat."""
    points = dict(zip(result["user_id"], result["points"], strict=True))
    _check_equal(points, {1: 150, 2: 150, 3: 100, 4: 150, 5: 150, 6: 100, 7: 100})


def _tax_cases() -> list[Case]:
    statements = {"user_id": Col("id"), "month": Col("label"), "statement_hash": Col("label")}
    return [
        Case(
            "referral.withholding",
            build=lambda: {"events": rows_of("WITHDRAWAL"), "config": TaxConfig()},
            call=lambda a: withholding(settled("WITHDRAWAL"), a["events"], a["config"]),
            columns={"events": {"seq": Col("count", ge=1, unique=True), "ts": Col("time")}},
            args={"events": FRAME, "config": OPTIONAL},
            check=_check_payouts,
        ),
        Case(
            "referral.monthly_statements",
            build=lambda: {"payouts": _payouts().copy()},
            call=lambda a: monthly_statements(settled("WITHDRAWAL"), a["payouts"]),
            columns={"payouts": PAYOUT_COLUMNS},
            args={"payouts": PART},
        ),
        Case(
            "referral.quarterly_export",
            build=lambda: {
                "payouts": _payouts().copy(),
                "identities": pd.DataFrame({"user_id": [1, 2, 5], "name": ["An", "Bo", "Cy"]}),
            },
            call=lambda a: quarterly_export(a["payouts"], a["identities"]),
            columns={"payouts": PAYOUT_COLUMNS, "identities": {"user_id": Col("id", unique=True)}},
            args={"payouts": PART, "identities": PART},
        ),
        Case(
            "referral.statement_records",
            build=lambda: {
                "statements": monthly_statements(settled("WITHDRAWAL"), _payouts()),
                "version": "1",
            },
            call=lambda a: statement_records(a["statements"], a["version"]),
            columns={"statements": statements},
            args={"statements": PART, "version": Arg("text")},
        ),
    ]


def _report_cases() -> list[Case]:
    report = pd.DataFrame({"user_id": [1, 2, 5], "hold": [True, False, True]})
    return [
        Case(
            "referral.dashboard",
            build=lambda: {"events": rows_of("ORDER_PAID")},
            call=lambda a: dashboard(settled("ORDER_PAID"), a["events"]),
            columns={"events": DASHBOARD_COLUMNS},
            args={"events": PART},
            check=_check_dashboard,
        ),
        Case(
            "referral.commission_detail",
            build=lambda: {"user_id": 1},
            call=lambda a: commission_detail(settled(), a["user_id"]),
            args={"user_id": MEMBER},
            check=lambda result, args: _check_equal(set(result["user_id"]), {1}),
        ),
        Case(
            "referral.fission_path",
            build=lambda: {"user_id": 7},
            call=lambda a: fission_path(settled(), a["user_id"]),
            args={"user_id": MEMBER},
            check=lambda result, args: _check_equal(result, [1, 2, 5, 7]),
        ),
        Case(
            "referral.badges",
            build=lambda: {"config": None},
            call=lambda a: badges(settled("ENGAGEMENT"), a["config"]),
            args={"config": OPTIONAL},
            check=_check_points,
        ),
        Case(
            "referral.close_months",
            build=lambda: {"events": full_log("MONTH_CLOSE"), "config": None},
            call=lambda a: close_months(settled("MONTH_CLOSE"), a["events"], a["config"]),
            columns={"events": {"seq": Col("count", ge=1), "ts": Col("time")}},
            args={"events": PART, "config": OPTIONAL},
        ),
        Case(
            "referral.health_report",
            build=lambda: {"events": HISTORY.copy(), "seed": 0},
            call=lambda a: health_report(a["events"], HEALTH, seed=a["seed"]),
            columns={"events": {"type": Col("label"), "ts": Col("time")}},
            args={"events": PART, "seed": Arg("count", ge=0)},
            check=lambda result, args: _check_equal(sorted(result["user_id"]), [1, 2, 5]),
        ),
        Case(
            "referral.hold_events",
            build=lambda: {"report": report.copy(), "start_seq": 40, "ts": pd.Timestamp(T0)},
            call=lambda a: hold_events(a["report"], start_seq=a["start_seq"], ts=a["ts"]),
            columns={"report": {"user_id": Col("id"), "hold": Col("flag")}},
            args={"report": PART, "start_seq": Arg("count", ge=1), "ts": OBJECT},
            check=lambda result, args: _check_equal(list(result["user_id"]), [1, 5]),
        ),
        Case(
            "referral.compliance_report",
            build=lambda: {"config": CONFIG},
            call=lambda a: compliance_report(a["config"]),
            args={"config": OPTIONAL},
            check=lambda result, args: _check_equal(set(result["status"]), {"ok"}),
        ),
        Case(
            "referral.version_registry",
            build=lambda: {"config": CONFIG, "versions": VERSIONS},
            call=lambda a: version_registry(a["config"], a["versions"]),
            args={"config": OBJECT, "versions": OPTIONAL},
            check=lambda result, args: _check_equal(list(result), ["1", "2", "3"]),
        ),
    ]


# -- the table ----------------------------------------------------------------------

CASES = [
    *_log_cases("settle", settle),
    *_log_cases("fold", fold),
    *_typed_cases(),
    Case(
        "referral.events_from_frames",
        build=shop_tables,
        call=lambda a: events_from_frames(**a),
        columns=SHOP_COLUMNS,
        args=dict.fromkeys(SHOP_COLUMNS, PART),
        check=_check_shop_events,
    ),
    Case(
        "referral.ReferralStore.ingest",
        build=lambda: {"events": with_event_ids(PARTS["ORDER_PAID"])},
        call=lambda a: _ingest(a["events"]),
        columns={"events": STORED},
        args={"events": PART},
        rejected=lambda result: named(result.report.rejected, "ORDER_PAID"),
        check=_check_ingested,
    ),
    *_tax_cases(),
    *_report_cases(),
]

EVENT_RECORDS = (
    *("Adjustment", "Bound", "ConfigActivated", "Engagement", "Hold", "MonthClose"),
    *("OrderLine", "OrderPaid", "OrderReceived", "RefundSucceeded", "Registered", "Release"),
    *("SettlementTick", "UserBanned", "Withdrawal", "WithdrawalApproved", "WithdrawalFailed"),
    *("WithdrawalPaid", "WithdrawalRejected", "WithdrawalRequested"),
    *("CommissionApproved", "CommissionDeclined"),
)
RESULT_TYPES = {
    "Settlement": "result of settle / fold",
    "ReferralState": "state returned by apply (ReferralState() is the empty start)",
    "MonthCloseResult": "result of close_months",
    "IngestReport": "result of ReferralStore.ingest",
    "AuditReport": "result of ReferralStore.audit",
    "EntryProof": "result of ReferralStore.proof",
}
EXEMPT = {
    **dict.fromkeys(
        EVENT_RECORDS,
        "typed event record (frozen dataclass, no checks of its own): malformed fields are "
        "tried through apply and events_to_frame",
    ),
    **dict.fromkeys(
        ("Reason", "SlideMode", "DirectBeneficiary", "TaxMethod"),
        "enumeration of labels (config values are tried by test_configs.py)",
    ),
    "events_from_shop": "events_from_frames of a Shop's four tables (covered); takes no frame",
}
