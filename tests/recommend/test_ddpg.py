"""DDPG recommender: determinism, save/load, errors, and no access to hidden ratings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chainmall.exceptions import DataValidationError, NotFittedError
from chainmall.recommend import (
    DDPGConfig,
    DDPGRecommender,
    EASEPolicy,
    SimulationData,
    SimulatorConfig,
    SlateSimulator,
    build_simulation,
    run_episodes,
)

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

TINY = DDPGConfig(
    embedding_dim=4,
    hidden=16,
    history_len=8,
    bc_steps=20,
    critic_pretrain_steps=4,
    rl_steps=8,
    batch_size=16,
    round_users=8,
    device="cpu",
)


def make_frame(flip_hidden_of: np.ndarray | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    taste = rng.normal(size=(50, 2)) @ rng.normal(size=(2, 30))
    u, i = np.nonzero(rng.random((50, 30)) < 0.6)
    rating = np.clip(np.round(3 + taste[u, i]), 1, 5)
    ts = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 10**6, len(u)), "s")
    return pd.DataFrame({"user_id": u, "item_id": i, "rating": rating, "ts": ts})


CONFIG = SimulatorConfig(n_visible=5, n_steps=3, slate_size=4)
DATA = build_simulation(make_frame(), CONFIG)


def first_scores(model: DDPGRecommender, data: SimulationData = DATA) -> np.ndarray:
    state = SlateSimulator(data).reset(data.users("test"))
    return model.scores(state)


def test_same_seed_same_actions_other_seed_differs() -> None:
    a = DDPGRecommender(TINY).fit(DATA)
    b = DDPGRecommender(TINY).fit(DATA)
    np.testing.assert_array_equal(first_scores(a), first_scores(b))
    finetuned = TINY.replace(select_on_validation=False)
    c = DDPGRecommender(finetuned).fit(DATA)
    d = DDPGRecommender(finetuned, seed=1).fit(DATA)
    assert not np.allclose(first_scores(c), first_scores(d))
    log_a, log_b = run_episodes(DATA, a, "test"), run_episodes(DATA, b, "test")
    np.testing.assert_array_equal(log_a.slates, log_b.slates)
    stages = {"validation_ctr_base", "validation_ctr_pretrained", "validation_ctr_finetuned"}
    assert set(a.fit_report_) == stages | {"selected"}
    best = max(stages, key=lambda k: float(a.fit_report_[k]))
    assert a.fit_report_[best] == a.fit_report_[f"validation_ctr_{a.fit_report_['selected']}"]


def test_save_load_round_trip(tmp_path: Path) -> None:
    model = DDPGRecommender(TINY).fit(DATA)
    folder = model.save(tmp_path / "ddpg")
    assert (folder / "weights.pt").is_file()
    loaded = DDPGRecommender.load(folder)
    np.testing.assert_allclose(first_scores(loaded), first_scores(model), rtol=1e-6)
    assert loaded.fit_report_ == model.fit_report_
    (folder / "weights.pt").write_bytes(b"changed")
    with pytest.raises(DataValidationError, match=r"weights\.pt.*SHA-256"):
        DDPGRecommender.load(folder)
    with pytest.raises(DataValidationError, match=r"manifest\.json"):
        DDPGRecommender.load(tmp_path / "nothing")


def test_errors_before_fit_and_on_bad_input() -> None:
    model = DDPGRecommender(TINY)
    state = SlateSimulator(DATA).reset(DATA.users("test"))
    with pytest.raises(NotFittedError):
        model.scores(state)
    with pytest.raises(NotFittedError):
        model.save("unused")
    with pytest.raises(DataValidationError, match="item_embeddings has 3 rows"):
        model.fit(DATA, item_embeddings=np.ones((3, 4)))
    if not torch.cuda.is_available():
        with pytest.raises(DataValidationError, match="CUDA"):
            DDPGRecommender(TINY, device="cuda").fit(DATA)


def test_training_never_reads_hidden_ratings_of_evaluated_users() -> None:
    """Leakage: flip every hidden rating of validation/test users; training is unchanged."""
    frame = make_frame()
    evaluated = set(DATA.user_ids[np.concatenate([DATA.users("validation"), DATA.users("test")])])
    order = frame.sort_values(["user_id", "ts"], kind="stable")
    rank = order.groupby("user_id").cumcount()
    hidden = (rank >= CONFIG.n_visible) & order.user_id.isin(evaluated)
    flipped = frame.copy()
    idx = order.index[hidden.to_numpy()]
    flipped.loc[idx, "rating"] = 6.0 - frame.loc[idx, "rating"]
    other = build_simulation(flipped, CONFIG)
    assert (other.ratings != DATA.ratings).nnz > 0  # the truth did change
    cfg = TINY.replace(select_on_validation=False)
    a = DDPGRecommender(cfg).fit(DATA)
    b = DDPGRecommender(cfg).fit(other)
    np.testing.assert_array_equal(first_scores(a), first_scores(b, other))


def test_untrained_actor_ranks_exactly_like_the_ease_base() -> None:
    """The residual head starts at zero: untrained, the scores are greedy EASE's, z-scored."""
    cfg = TINY.replace(bc_steps=0, critic_pretrain_steps=0, rl_steps=0, select_on_validation=False)
    model = DDPGRecommender(cfg).fit(DATA)
    logged = DATA.logged()
    positives = (logged.matrix >= CONFIG.click_threshold).astype(float)
    base = EASEPolicy.from_matrix(
        positives, reg=cfg.base_reg, tie_break=np.asarray(positives.sum(axis=0)).ravel()
    )
    state = SlateSimulator(DATA).reset(DATA.users("test"))
    raw = base.scores(state) - base.tie_break
    z = (raw - raw.mean(axis=1, keepdims=True)) / raw.std(axis=1, keepdims=True).clip(1e-9)
    np.testing.assert_allclose(model.scores(state) - base.tie_break, z, atol=1e-5)


def test_validation_selection_never_reads_test_users_hidden_ratings() -> None:
    """Leakage with selection on: flipping test users' hidden ratings changes nothing."""
    frame = make_frame()
    test_users = set(DATA.user_ids[DATA.users("test")])
    order = frame.sort_values(["user_id", "ts"], kind="stable")
    rank = order.groupby("user_id").cumcount()
    hidden = (rank >= CONFIG.n_visible) & order.user_id.isin(test_users)
    flipped = frame.copy()
    idx = order.index[hidden.to_numpy()]
    flipped.loc[idx, "rating"] = 6.0 - frame.loc[idx, "rating"]
    other = build_simulation(flipped, CONFIG)
    a = DDPGRecommender(TINY).fit(DATA)
    b = DDPGRecommender(TINY).fit(other)
    assert a.fit_report_ == b.fit_report_
    np.testing.assert_array_equal(first_scores(a), first_scores(b, other))
