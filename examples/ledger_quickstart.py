# %% [markdown]
# # A verifiable ledger in five steps
#
# Append records, publish a tree head, prove one entry to its owner, prove the
# next head extends the previous one, and catch tampering.

# %%
from dataclasses import replace

from chainmall.exceptions import LedgerIntegrityError
from chainmall.ledger import Ledger, verify_consistency, verify_inclusion

ledger = Ledger()
for user, amount in [("u1", 2000), ("u2", 500), ("u3", 1500)]:
    ledger.append({"type": "COMMISSION", "user": user, "amount_fen": amount})
yesterday = ledger.head()
print("published head:", yesterday)

# %% [markdown]
# A refund appends a reversal; nothing is edited.

# %%
ledger.append({"type": "REVERSAL", "user": "u1", "amount_fen": -500})
today = ledger.head()

# %% [markdown]
# Member u1 checks that their commission is in today's tree, and anyone checks
# that today's tree extends yesterday's.

# %%
proof = ledger.inclusion_proof(0)
assert verify_inclusion({"type": "COMMISSION", "user": "u1", "amount_fen": 2000}, proof, today)
assert verify_consistency(ledger.consistency_proof(yesterday.size), yesterday, today)
print("inclusion path:", len(proof.path), "hashes")

# %% [markdown]
# Someone with write access edits an amount: verification names the entry.

# %%
entries = ledger._entries  # storage-level access, as an attacker would have
entries[1] = replace(entries[1], record={**entries[1].record, "amount_fen": 50_000})
try:
    ledger.verify()
except LedgerIntegrityError as err:
    print("tampering caught:", err)
