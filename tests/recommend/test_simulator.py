"""The slate simulator: split, visible/hidden, click models, episode rules, gym env, leakage."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainmall.exceptions import ConfigError, DataValidationError
from chainmall.recommend import (
    OraclePolicy,
    RandomPolicy,
    SimulationData,
    SimulatorConfig,
    SlateSimulator,
    build_simulation,
    run_episodes,
    summarize_episodes,
)

SMALL = {"n_visible": 5, "n_steps": 3, "slate_size": 4}


def make_frame(seed: int = 1) -> pd.DataFrame:
    """60 users × 40 items, ~60% rated (1-5 from a rank-2 taste model), seeded."""
    rng = np.random.default_rng(seed)
    taste = rng.normal(size=(60, 2)) @ rng.normal(size=(2, 40))
    u, i = np.nonzero(rng.random((60, 40)) < 0.6)
    rating = np.clip(np.round(3 + taste[u, i] + rng.normal(0, 0.3, len(u))), 1, 5)
    ts = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(
        rng.integers(0, 10**6, len(u)), unit="s"
    )
    return pd.DataFrame({"user_id": u + 100, "item_id": i, "rating": rating, "ts": ts})


def simulate(frame: pd.DataFrame, **overrides: Any) -> SimulationData:
    return build_simulation(frame, SimulatorConfig(**{**SMALL, **overrides}))


SHARED = simulate(make_frame())
SHARED_TIRED = simulate(make_frame(), fatigue=0.3)


@pytest.fixture
def frame() -> pd.DataFrame:
    return make_frame()


def test_split_and_visible_history(frame: pd.DataFrame) -> None:
    data = simulate(frame)
    parts = [data.users(s) for s in ("train", "validation", "test")]
    assert [len(p) for p in parts] == [36, 12, 12]
    assert len(np.unique(np.concatenate(parts))) == len(data.user_ids)
    # visible = each user's 5 earliest ratings by time
    for row in (0, 17, 59):
        user = data.user_ids[row]
        rows = frame[frame.user_id == user].sort_values("ts")
        expected = set(rows.item_id.iloc[:5])
        got = set(data.item_ids[data.visible[row].indices])
        assert got == expected
    # logged: all ratings of train users, only the visible ones of the others
    logged = data.logged()
    counts = np.diff(logged.matrix.indptr)
    assert (counts[parts[0]] == np.diff(data.ratings.indptr)[parts[0]]).all()
    assert (counts[parts[1]] == 5).all() and (counts[parts[2]] == 5).all()


def test_bad_split_fails() -> None:
    with pytest.raises(ConfigError, match="leaves no test users"):
        SimulatorConfig(train_fraction=0.8, validation_fraction=0.2)


def test_logged_clicks_follow_hidden_ratings_golden() -> None:
    """Hand-built: user 'a' rated x=5, y=3 after its visible history; z is unrated."""
    ts = pd.Timestamp("2024-01-01", tz="UTC")
    rows = [("a", "v", 5, 0), ("a", "x", 5, 1), ("a", "y", 3, 2)]
    rows += [(u, "v", 4, 0) for u in "bcde"] + [(u, "z", 2, 1) for u in "bcde"]
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "ts"])
    frame["ts"] = ts + pd.to_timedelta(frame["ts"], unit="D")
    frame["rating"] = frame["rating"].astype(float)
    data = build_simulation(
        frame, SimulatorConfig(n_visible=1, n_steps=2, slate_size=2, train_fraction=0.4)
    )
    sim = SlateSimulator(data)
    a = int(np.flatnonzero(data.user_ids == "a")[0])
    x, y, z, v = (int(np.flatnonzero(data.item_ids == i)[0]) for i in "xyzv")
    state = sim.reset(np.array([a]))
    assert state.positives == [[v]]
    assert not state.candidates[0, v]  # the visible item is never a candidate
    state, clicks = sim.step(state, np.array([[y, x]]))
    assert clicks.tolist() == [[False, True]]
    assert state.positives == [[v, x]]
    state, clicks = sim.step(state, np.array([[x, z]]))  # x again: shown already
    assert clicks.tolist() == [[False, False]]
    assert state.done.all()
    restricted = build_simulation(
        frame,
        SimulatorConfig(
            n_visible=1, n_steps=2, slate_size=2, train_fraction=0.4, click_model="restricted"
        ),
    )
    cand = SlateSimulator(restricted).reset(np.array([a])).candidates[0]
    assert set(np.flatnonzero(cand)) == {x, y}


def test_model_based_fills_unknown_ratings(frame: pd.DataFrame) -> None:
    data = simulate(frame, click_model="model_based")
    users = data.users("test")
    relevance, candidates = data.relevance(users)
    hidden = data.hidden(users).toarray()
    assert data.filled is not None
    expected = np.where(hidden > 0, hidden, data.filled[users]) >= 4.0
    visible = data.visible[users].toarray() > 0
    np.testing.assert_array_equal(relevance.astype(bool), expected & ~visible)
    np.testing.assert_array_equal(candidates, ~visible)


def test_slate_rules(frame: pd.DataFrame) -> None:
    data = simulate(frame)
    sim = SlateSimulator(data)
    users = data.users("test")[:3]
    state = sim.reset(users)
    item = int(np.flatnonzero(state.available()[0])[0])
    slates = np.full((3, 4), -1)
    slates[0] = [item, item, item, -1]
    nxt, clicks = sim.step(state, slates)
    assert clicks[0, 1:].sum() == 0  # a repeated item is clicked at most once
    assert nxt.shown[0].sum() == 1 and not state.shown.any()  # old state untouched
    with pytest.raises(DataValidationError, match="item indices"):
        sim.step(state, np.full((3, 4), data.n_items))
    with pytest.raises(DataValidationError, match="rows"):
        sim.step(state, np.full((2, 4), -1))


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), fatigue=st.sampled_from([0.0, 0.3]))
def test_random_slates_respect_episode_invariants(seed: int, fatigue: float) -> None:
    """Any slates: clicks only on relevant, new candidates; at most one click per item."""
    data = SHARED if fatigue == 0 else SHARED_TIRED
    users = data.users("validation")
    relevance, candidates = data.relevance(users)
    rng = np.random.default_rng(seed)
    sim = SlateSimulator(data, seed=seed)
    state = sim.reset(users)
    clicked = np.zeros_like(candidates, dtype=int)
    while not state.done.all():
        slates = rng.integers(-1, data.n_items, (len(users), 4))
        before = state.shown.copy()
        state, clicks = sim.step(state, slates)
        rows, cols = np.nonzero(clicks)
        items = slates[rows, cols]
        assert (relevance[rows, items] > 0).all() and candidates[rows, items].all()
        assert not before[rows, items].any()
        np.add.at(clicked, (rows, items), 1)
    assert clicked.max() <= 1
    assert state.step <= data.config.n_steps


def test_env_passes_gymnasium_checker(frame: pd.DataFrame) -> None:
    check_env = pytest.importorskip("gymnasium.utils.env_checker").check_env

    from chainmall.recommend import RecommendationEnv

    env = RecommendationEnv(simulate(frame), "test", history_len=8)
    check_env(env, skip_render_check=True)
    obs, info = env.reset(seed=3)
    assert set(obs) == {"positives", "shown", "available", "step"}
    total = 0.0
    terminated = False
    while not terminated:
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        total += float(reward)
        assert not truncated and info["clicks"].sum() == reward
    assert obs["step"] == 3


def test_observations_never_depend_on_unshown_hidden_ratings(frame: pd.DataFrame) -> None:
    """Leakage: flipping the hidden ratings of items never shown changes nothing agents see."""
    data = simulate(frame)
    users = data.users("test")
    sim = SlateSimulator(data)
    state = sim.reset(users)
    slates = np.stack([np.flatnonzero(state.available()[r])[:4] for r in range(len(users))])
    shown = np.zeros((len(users), data.n_items), dtype=bool)
    np.put_along_axis(shown, slates, True, axis=1)
    flipped = frame.copy()
    user_pos = {u: r for r, u in enumerate(data.user_ids[users])}
    item_pos = {i: c for c, i in enumerate(data.item_ids)}
    hidden = data.hidden(users).toarray() > 0
    for idx, (u, i) in enumerate(zip(frame.user_id, frame.item_id, strict=True)):
        r = user_pos.get(u)
        if r is not None and hidden[r, item_pos[i]] and not shown[r, item_pos[i]]:
            flipped.iloc[idx, flipped.columns.get_loc("rating")] = 6.0 - frame.rating.iloc[idx]
    other = SlateSimulator(build_simulation(flipped, data.config))
    state2 = other.reset(users)
    for a, b in ((state, state2), (sim.step(state, slates)[0], other.step(state2, slates)[0])):
        assert a.positives == b.positives
        np.testing.assert_array_equal(a.shown, b.shown)
        np.testing.assert_array_equal(a.candidates, b.candidates)
        assert (a.history != b.history).nnz == 0
    # and the logged data agents learn from is identical too
    assert (data.logged().matrix != build_simulation(flipped, data.config).logged().matrix).nnz == 0


def test_fatigue_lowers_clicks_and_is_seeded(frame: pd.DataFrame) -> None:
    plain = simulate(frame)
    tired = simulate(frame, fatigue=0.6, novelty=0.5)
    oracle_plain = summarize_episodes(run_episodes(plain, OraclePolicy(plain), "train"), n_items=40)
    oracle_tired = summarize_episodes(run_episodes(tired, OraclePolicy(tired), "train"), n_items=40)
    assert oracle_tired.ctr < oracle_plain.ctr
    again = run_episodes(tired, OraclePolicy(tired), "train", seed=0)
    np.testing.assert_array_equal(
        again.clicks, run_episodes(tired, OraclePolicy(tired), "train", seed=0).clicks
    )


def test_oracle_is_the_ceiling(frame: pd.DataFrame) -> None:
    data = simulate(frame)
    oracle = run_episodes(data, OraclePolicy(data), "test")
    for seed in range(5):
        random = run_episodes(data, RandomPolicy(data.n_items, seed=seed), "test")
        assert (random.clicks.sum(axis=(1, 2)) <= oracle.clicks.sum(axis=(1, 2))).all()
