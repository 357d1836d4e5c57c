"""The batch path: the fold's rules (:mod:`chainmall.referral.rules`) for a whole log at once.

Private. :func:`chainmall.referral._batch.settle.settle` is the entry point; each
module mirrors one rule module of the fold, named by the same R-code, and each
function says which fold function it mirrors:

| rule | batch module | fold module |
|---|---|---|
| sequence checks, per-type tables | :mod:`.tables` | :mod:`chainmall.referral.rules` |
| accounts, withdrawals, month close | :mod:`.accounts` | :mod:`chainmall.referral.rules.accounts` |
| R1 binding | :mod:`.r1_binding` | :mod:`chainmall.referral.rules.r1_binding` |
| R2 membership, R3 team placement | :mod:`.r3_team` | :mod:`chainmall.referral.rules.r3_team` |
| order intake | :mod:`.orders` | :mod:`chainmall.referral.rules.r4_rewards` |
| R4.2–R4.5 rewards, ratio cap | :mod:`.r4_rewards` | :mod:`chainmall.referral.rules.r4_rewards` |
| R4.6 monthly cap | :mod:`.r4_monthly_cap` | :mod:`chainmall.referral.rules.r4_rewards` |
| R5 settlement | :mod:`.r5_settlement` | :mod:`chainmall.referral.rules.r5_settlement` |
| R6 refunds, claw-back | :mod:`.r6_refunds` | :mod:`chainmall.referral.rules.r6_refunds` |
| R10 energy | :mod:`.r10_energy` | :mod:`chainmall.referral.rules.r10_energy` |
| R11 holds | :mod:`.r11_holds` | :mod:`chainmall.referral.rules.r11_holds` |
| config versions | :mod:`.versions` | :mod:`chainmall.referral.versions` |
| ledger order | :mod:`.ledger` | ``Step.emit`` in :mod:`chainmall.referral.rules.state` |
"""
