"""Baseline policies: valid slates, hand-worked kNN votes, learning from feedback."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from chainmall.exceptions import DataValidationError
from chainmall.recommend import (
    EASEPolicy,
    EmbeddingGreedyPolicy,
    EpsilonGreedyPolicy,
    ItemKNNPolicy,
    LinUCBPolicy,
    OraclePolicy,
    PopularityPolicy,
    RandomPolicy,
    SimulatorConfig,
    build_simulation,
    run_episodes,
)
from chainmall.recommend.simulator import EpisodeState


def make_data():  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(2)
    taste = rng.normal(size=(50, 2)) @ rng.normal(size=(2, 30))
    u, i = np.nonzero(rng.random((50, 30)) < 0.6)
    rating = np.clip(np.round(3 + taste[u, i]), 1, 5)
    ts = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 10**6, len(u)), "s")
    frame = pd.DataFrame({"user_id": u, "item_id": i, "rating": rating, "ts": ts})
    return build_simulation(frame, SimulatorConfig(n_visible=5, n_steps=3, slate_size=4))


DATA = make_data()
FACTORS = np.random.default_rng(0).normal(size=(DATA.n_items, 4))
POPULARITY = np.asarray(DATA.logged().matrix.astype(bool).sum(axis=0)).ravel().astype(float)

POLICIES = [
    lambda: RandomPolicy(DATA.n_items, seed=1),
    lambda: PopularityPolicy(POPULARITY),
    lambda: ItemKNNPolicy.from_matrix(DATA.logged().matrix, k=5, tie_break=POPULARITY),
    lambda: EmbeddingGreedyPolicy(FACTORS),
    lambda: EASEPolicy.from_matrix(DATA.logged().matrix, reg=5.0, tie_break=POPULARITY),
    lambda: EpsilonGreedyPolicy(POPULARITY, epsilon=0.3, seed=1),
    lambda: LinUCBPolicy(FACTORS),
    lambda: OraclePolicy(DATA),
]


@pytest.mark.parametrize("make", POLICIES)
def test_policies_show_valid_new_slates(make) -> None:  # type: ignore[no-untyped-def]
    log = run_episodes(DATA, make(), "test")
    visible = DATA.visible[log.users].toarray() > 0
    for row in range(len(log.users)):
        items = log.slates[row][log.slates[row] >= 0]
        assert len(items) == len(set(items.tolist()))  # never shown twice
        assert not visible[row, items].any()  # never the visible history
    assert (log.impressions == 12).all()


def test_item_knn_votes_golden() -> None:
    """Item 0 is the positive; its top-1 neighbour is item 2 (0.9), so only 2 gets a vote."""
    sims = np.array([[1.0, 0.5, 0.9], [0.5, 1.0, 0.1], [0.9, 0.1, 1.0]])
    policy = ItemKNNPolicy(sims, k=1)
    state = EpisodeState(
        users=np.array([0]),
        step=0,
        history=sp.csr_matrix((1, 3)),
        positives=[[0]],
        shown=np.zeros((1, 3), dtype=bool),
        candidates=np.ones((1, 3), dtype=bool),
    )
    np.testing.assert_allclose(policy.scores(state), [[0.0, 0.0, 0.9]])
    assert policy.act(state, 1).tolist() == [[2]]


def test_epsilon_zero_learns_from_clicks_and_bad_epsilon_fails() -> None:
    policy = EpsilonGreedyPolicy(np.ones(3), epsilon=0.0)
    state = EpisodeState(
        users=np.array([0]),
        step=0,
        history=sp.csr_matrix((1, 3)),
        positives=[[]],
        shown=np.zeros((1, 3), dtype=bool),
        candidates=np.ones((1, 3), dtype=bool),
    )
    policy.observe(state, np.array([[0, 1]]), np.array([[False, True]]))
    assert policy.act(state, 1).tolist() == [[1]]  # the clicked item now leads
    with pytest.raises(DataValidationError, match="epsilon"):
        EpsilonGreedyPolicy(np.ones(3), epsilon=1.5)


def test_linucb_rewards_move_the_estimate() -> None:
    features = np.eye(3)
    policy = LinUCBPolicy(features, alpha=0.0)
    state = EpisodeState(
        users=np.array([0]),
        step=0,
        history=sp.csr_matrix((1, 3)),
        positives=[[]],
        shown=np.zeros((1, 3), dtype=bool),
        candidates=np.ones((1, 3), dtype=bool),
    )
    policy.begin(state)
    policy.observe(state, np.array([[2, 0]]), np.array([[True, False]]))
    assert int(np.argmax(policy.scores(state)[0])) == 2


def test_ease_golden_scores_and_skipped_items_push_down() -> None:
    """x_u = positives (1) + skipped (skip_weight): item 0 liked, item 1 shown and skipped;
    scores = x_u B = [0, 0.3, 0.9] + (-0.5) * [0.2, 0, 0.4] = [-0.1, 0.3, 0.7]: the skip
    cuts item 2's score from 0.9 to 0.7."""
    weights = np.array([[0.0, 0.3, 0.9], [0.2, 0.0, 0.4], [0.1, 0.1, 0.0]])
    policy = EASEPolicy(weights, skip_weight=-0.5)
    shown = np.array([[True, True, False]])
    state = EpisodeState(
        users=np.array([0]),
        step=1,
        history=sp.csr_matrix((1, 3)),
        positives=[[0]],
        shown=shown,
        candidates=np.ones((1, 3), dtype=bool),
    )
    np.testing.assert_allclose(policy.inputs(state), [[1.0, -0.5, 0.0]])
    np.testing.assert_allclose(policy.scores(state), [[-0.1, 0.3, 0.7]])
    with pytest.raises(DataValidationError, match="square"):
        EASEPolicy(np.ones((2, 3)))


def test_ease_from_matrix_matches_closed_form() -> None:
    """B = I - P diag(1/diag P), P = (XᵀX + λI)⁻¹, on the binary matrix."""
    x = sp.csr_matrix(np.array([[5.0, 4.0, 0.0], [0.0, 3.0, 1.0], [2.0, 0.0, 0.0]]))
    binary = (x.toarray() > 0).astype(float)
    p = np.linalg.inv(binary.T @ binary + 2.0 * np.eye(3))
    expected = np.eye(3) - p / np.diag(p)[None, :]
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(EASEPolicy.from_matrix(x, reg=2.0).weights, expected, atol=1e-12)
