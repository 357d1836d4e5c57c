# %% [markdown]
# # Campaign quickstart: simulate the paper's promotion, then analyse it like an A/B test
#
# Simulated effects follow from the assumptions in `WorldConfig`; they are not
# evidence about any real shop. Use the statistics on your own experiment data.

# %%
import pandas as pd

from chainmall.campaign import (
    Campaign,
    ChurnCoupon,
    EnergyPoints,
    GroupBuy,
    InviteCoupon,
    SpendLottery,
    WorldConfig,
    compare_arms,
    replicate,
    run_experiment,
    sample_size_means,
)

world = WorldConfig(n_members=1000, n_items=60, weeks=12, pre_weeks=6)
paper = Campaign(
    name="paper",
    mechanics=(InviteCoupon(), GroupBuy(), SpendLottery(), EnergyPoints(), ChurnCoupon()),
    referral=True,
    recommendations="personalised",
    dynamic_pricing=True,
)

# %% one experiment: two shops, same seed (common random numbers)
exp = run_experiment(world, paper, seed=0)
print(exp.summary().round(3).to_string(index=False))

# %% the spread over simulated shops: relative effects with 95% intervals over seeds
rep = replicate(world, paper, seeds=range(5))
print(rep.effects[["metric", "relative", "relative_ci_low", "relative_ci_high"]].round(3))

# %% member-level analysis with CUPED (independent arms), and the sample size to plan
ab = run_experiment(world, paper, seed=1, common_random_numbers=False).member_outcomes()
plain = compare_arms(ab, "spend_fen")
adjusted = compare_arms(ab, "spend_fen", covariate="pre_spend_fen")
print(
    pd.DataFrame([plain.to_dict(), adjusted.to_dict()])[
        ["method", "estimate", "se", "ci_low", "ci_high"]
    ]
)
sd = ab.loc[ab["arm"] == "control", "spend_fen"].std()
print(
    "members per arm to detect +5% spend:", round(sample_size_means(0.05 * plain.control_mean, sd))
)
