# %% [markdown]
# # Run a 2+1 programme from a database
#
# An empty SQLite file becomes a live programme: the order system delivers events
# (some twice), a scheduler ticks once a day, the payout job reads the change feed
# from its cursor, a member checks an entry against the published tree head, and
# the nightly audit replays the event log. The same code runs on PostgreSQL or
# MySQL by changing the URL.

# %%
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from chainmall.referral import (
    ReferralConfig,
    ReferralStore,
    commission_detail,
    dashboard,
    fission_path,
)

folder = Path(tempfile.mkdtemp())
url = f"sqlite:///{folder / 'programme.db'}"  # or postgresql://user@host/db, mysql://...
store = ReferralStore.open(url, ReferralConfig())

# %% [markdown]
# The order system's events, keyed by its own ids: WeChat openids for members,
# order numbers for orders and lines. `event_id` is the idempotency key: the store
# applies each event once, however often it is delivered.

# %%
t0 = datetime(2025, 3, 3, 10, tzinfo=UTC)


def event(event_id: str, type_: str, ts: datetime, **fields: object) -> dict[str, object]:
    return {"event_id": event_id, "type": type_, "ts": ts, **fields}


members = ["oA", "oP1", "oP2", "oX", "oB"]
inviter = {"oP1": "oA", "oP2": "oA", "oX": "oA", "oB": "oX"}
rows = []
for name in members:
    rows.append(event(f"reg-{name}", "REGISTERED", t0, user_id=name))
    if name in inviter:
        rows.append(event(f"bind-{name}", "BOUND", t0, user_id=name, inviter_id=inviter[name]))
for i, name in enumerate(members):  # a first 1-fen purchase makes each a member
    order = f"SO{100 + i}"
    rows.append(
        event(
            order,
            "ORDER_PAID",
            t0,
            order_id=order,
            user_id=name,
            line_id=f"{order}-1",
            amount_fen=1,
        )
    )
order = "SO200"  # oB buys two lines, 100.00 and 50.00 yuan, received 3 days later
for line, fen in (("SO200-1", 10_000), ("SO200-2", 5_000)):
    rows.append(
        event(
            order,
            "ORDER_PAID",
            t0 + timedelta(hours=1),
            order_id=order,
            user_id="oB",
            line_id=line,
            amount_fen=fen,
        )
    )
rows.append(event("recv-SO200", "ORDER_RECEIVED", t0 + timedelta(days=3), order_id=order))
batch = pd.DataFrame(rows).astype({"amount_fen": "Int64"})  # money: integer fen
report = store.ingest(batch)
print(report.outcomes["delivery"].value_counts().to_dict(), "head", report.head.size)

# %% [markdown]
# The same batch again (a retry after a timeout), and one order line twice in one
# frame: nothing is applied twice.

# %%
again = store.ingest(pd.concat([batch, batch.tail(1)]))
print(again.outcomes["delivery"].value_counts().to_dict(), "new entries", again.entries)

# %% [markdown]
# A scheduler calls `tick` once a day: commissions become available when the
# refund window has passed. A missed day is caught up by the next tick; a repeated
# tick at the same instant is a no-op.

# %%
for day in range(1, 20):
    store.tick(t0 + timedelta(days=day))
store.tick(t0 + timedelta(days=19))
print(store.balances())

# %% [markdown]
# The payout job reads the change feed from its saved cursor (the next position),
# so a restart resumes where it stopped.

# %%
cursor = 0
while True:
    page = store.entries(since=cursor, limit=4)
    if page.empty:
        break
    for entry in page.itertuples():
        print(entry.position, entry.kind, entry.user_id, entry.amount_fen)
    cursor = int(page["position"].iloc[-1]) + 1

# %% [markdown]
# Reports read from the store: the store's settlement and event log go to the same
# functions as `settle`'s result (team board, commission detail, fission path, tax).

# %%
settlement = store.settlement()
print(dashboard(settlement, store.events())[["user_id", "team_size", "team_gmv_fen"]])
print(commission_detail(settlement, "oX")[["kind", "amount_fen", "order_id"]])
print(" -> ".join(fission_path(settlement, "oB")))

# %% [markdown]
# A member checks one of their entries against the published tree head; the
# nightly audit replays the stored event log through the batch settlement.

# %%
mine = store.member_entries("oX")
proof = store.proof(mine["entry_id"].iloc[0])
print("head", store.head().size, store.head().root[:16], "entry included:", proof.verify())
audit = store.audit()
print("audit clean:", audit.clean, audit.problems)
store.close()
