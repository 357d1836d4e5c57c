# %% [markdown]
# # 2+1 referral quickstart
#
# Settle a small hand-built team, then a synthetic shop, and check a member's
# commission against the published Merkle root.

# %%
from datetime import UTC, datetime, timedelta

from chainmall.datasets import make_shop
from chainmall.ledger import verify_inclusion
from chainmall.referral import (
    Bound,
    OrderLine,
    OrderPaid,
    OrderReceived,
    ReferralConfig,
    Registered,
    SettlementTick,
    events_from_shop,
    events_to_frame,
    settle,
)

# %% [markdown]
# A is a BOSS (two invitees joined); X joins A's team; X's invitees B and C slide to
# A and X breaks away; D stays with X. B then buys a 100.00 yuan line.

# %%
t0 = datetime(2025, 3, 3, tzinfo=UTC)
names = ["A", "P1", "P2", "X", "B", "C", "D"]
uid = {name: i + 1 for i, name in enumerate(names)}
inviter = {"P1": "A", "P2": "A", "X": "A", "B": "X", "C": "X", "D": "X"}
events: list = []
seq = 0


def nxt() -> int:
    global seq
    seq += 1
    return seq


for name in names:
    events.append(Registered(nxt(), t0, uid[name]))
    if name in inviter:
        events.append(Bound(nxt(), t0, uid[name], uid[inviter[name]]))
for i, name in enumerate(names):  # each buys a 1-fen line: becomes a MEMBER
    events.append(OrderPaid(nxt(), t0, 100 + i, uid[name], (OrderLine(1_000 + i, 1),)))
events.append(OrderPaid(nxt(), t0, 200, uid["B"], (OrderLine(2_000, 10_000),)))
events.append(OrderReceived(nxt(), t0 + timedelta(days=3), 200))
events.append(SettlementTick(nxt(), t0 + timedelta(days=17)))

result = settle(events_to_frame(events), ReferralConfig())
print(result.entries[["seq", "kind", "user_id", "reward_type", "amount_fen", "rate_bp"]])
print(result.relation_changes)
print(result.balances)

# %% [markdown]
# A synthetic shop: 2,000 members, about 20,000 order lines, refunds and daily ticks.

# %%
shop = make_shop(seed=0, n_members=2_000, orders_per_member=8.0)
shop_result = settle(events_from_shop(shop))
print(shop_result.entries["kind"].value_counts())
print(shop_result.relation_changes["reason"].value_counts())

# %% [markdown]
# Publish the tree head; a member checks one of their entries against it.

# %%
ledger = shop_result.ledger()
head = ledger.head()
index = 0
proof = ledger.inclusion_proof(index)
print(head.size, head.root[:16], verify_inclusion(ledger.entries[index].record, proof, head))
