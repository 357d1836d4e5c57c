"""Batched slate simulator and the policy interface every agent and baseline follows.

:class:`SlateSimulator` runs one episode for many users at once (numpy arrays
users × items): each step the policy shows a slate of ``slate_size`` items; an
item is clicked with the click model's probability (0/1 without
fatigue/novelty). An item already shown, outside the candidate set, or
repeated in the slate is an impression that is never clicked. An episode ends
after ``n_steps`` slates or when a user has no candidate left.

What a policy sees is :class:`EpisodeState`: the user's visible history, the
positives so far (visible items rated ``>= click_threshold``, then every
clicked item, in order), the items shown, and the candidate mask. It never
sees a hidden rating: a hidden item enters the state only by being clicked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from chainmall._validation import check_scalar
from chainmall.exceptions import DataValidationError
from chainmall.recommend._base import FloatArray, IntArray
from chainmall.recommend.click_models import BoolArray, SimulationData, Split

__all__ = ["EpisodeLog", "EpisodeState", "SlatePolicy", "SlateSimulator", "run_episodes"]


@dataclass
class EpisodeState:
    """What a policy may see about a batch of users during an episode."""

    users: IntArray
    """Row indices of the users (into ``SimulationData.user_ids``)."""
    step: int
    history: sp.csr_matrix
    """Visible ratings of the users (rows follow ``users``)."""
    positives: list[list[int]]
    """Per user: visible positives (time order), then clicked items (click order)."""
    shown: BoolArray
    """Items shown so far in this episode (users × items)."""
    candidates: BoolArray
    """Items that may be shown at all (users × items); visible items never are."""
    done: BoolArray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def available(self) -> BoolArray:
        """Candidates not shown yet."""
        avail: BoolArray = self.candidates & ~self.shown
        return avail


class SlatePolicy:
    """Base class of every policy: score items; the default slate is the top unseen ones.

    Subclasses override :meth:`scores` (users × items) and, to learn online,
    :meth:`observe`. :meth:`begin` is called once per batch of new users.
    """

    name = "policy"

    def begin(self, state: EpisodeState) -> None:
        """A new episode starts for ``state.users``."""

    def scores(self, state: EpisodeState) -> FloatArray:
        """Score of every item for every user of the batch (higher is shown first)."""
        raise NotImplementedError

    def observe(self, state: EpisodeState, slates: IntArray, clicks: BoolArray) -> None:
        """Feedback on the slates just shown (``clicks`` aligns with ``slates``)."""

    def act(self, state: EpisodeState, slate_size: int) -> IntArray:
        """Slates ``(users, slate_size)`` of the best available items (−1 = nothing left)."""
        return top_available(self.scores(state), state.available(), slate_size)


def top_available(scores: FloatArray, available: BoolArray, k: int) -> IntArray:
    """Indices of the ``k`` best available items per row, best first, −1 where none is left."""
    masked = np.where(available, scores, -np.inf)
    kk = min(k, masked.shape[1])
    part = np.argpartition(-masked, kk - 1, axis=1)[:, :kk]
    order = np.argsort(-np.take_along_axis(masked, part, axis=1), axis=1, kind="stable")
    top = np.full((masked.shape[0], k), -1, dtype=np.int64)
    top[:, :kk] = np.take_along_axis(part, order, axis=1)
    top[:, :kk][~np.isfinite(np.take_along_axis(masked, top[:, :kk], axis=1))] = -1
    return top


class SlateSimulator:
    """Runs slate episodes for batches of simulated users.

    Args:
        data: the simulation (from :func:`~chainmall.recommend.build_simulation`).
        seed: seed of the click draws (only used with fatigue/novelty).
    """

    def __init__(self, data: SimulationData, *, seed: int = 0) -> None:
        self.data = data
        self.rng = np.random.default_rng(seed)
        self._probability: FloatArray = np.zeros((0, data.n_items))

    def reset(self, users: IntArray) -> EpisodeState:
        """Start an episode for ``users`` (row indices)."""
        users = np.asarray(users, dtype=np.int64)
        cfg = self.data.config
        relevance, candidates = self.data.relevance(users)
        if cfg.novelty > 0:
            relevance = relevance * np.where(self.data.head, 1.0 - cfg.novelty, 1.0)
        self._probability = relevance
        history = self.data.visible[users]
        positives = []
        for row in range(len(users)):
            items = history.indices[history.indptr[row] : history.indptr[row + 1]]
            ratings = history.data[history.indptr[row] : history.indptr[row + 1]]
            positives.append(items[ratings >= cfg.click_threshold].tolist())
        return EpisodeState(
            users=users,
            step=0,
            history=history,
            positives=positives,
            shown=np.zeros((len(users), self.data.n_items), dtype=bool),
            candidates=candidates,
            done=np.asarray(~candidates.any(axis=1), dtype=bool),
        )

    def step(self, state: EpisodeState, slates: IntArray) -> tuple[EpisodeState, BoolArray]:
        """Show ``slates`` (users × k item indices, −1 = empty); returns the next state
        (a new object; ``state`` is left as it was) and the clicks."""
        slates = np.asarray(slates, dtype=np.int64)
        n, k = slates.shape
        if n != len(state.users):
            raise DataValidationError(f"slates has {n} rows for {len(state.users)} users")
        if (slates >= self.data.n_items).any() or (slates < -1).any():
            raise DataValidationError(
                f"slate items must be item indices in [0, {self.data.n_items}) or -1 for empty"
            )
        rows = np.repeat(np.arange(n), k).reshape(n, k)
        filled = (slates >= 0) & ~state.done[:, None]
        safe = np.where(filled, slates, 0)
        valid = filled & state.candidates[rows, safe] & ~state.shown[rows, safe]
        # a repeated item in one slate is clicked at most once: keep its first position
        first = np.ones_like(valid)
        for col in range(1, k):
            first[:, col] = ~(slates[:, :col] == slates[:, col : col + 1]).any(axis=1)
        valid &= first
        probability = self._probability[rows, safe] * valid
        fatigue = self.data.config.fatigue
        if fatigue > 0:
            probability = probability * (1.0 - fatigue) ** state.step
        uncertain = (probability > 0) & (probability < 1)
        clicks = probability >= 1
        if uncertain.any():
            clicks |= uncertain & (self.rng.random(probability.shape) < probability)
        shown = state.shown.copy()
        shown[rows[filled], safe[filled]] = True
        positives = [list(p) for p in state.positives]
        for row, col in zip(*np.nonzero(clicks), strict=True):
            positives[row].append(int(slates[row, col]))
        step = state.step + 1
        done = state.done | (step >= self.data.config.n_steps)
        done |= ~(state.candidates & ~shown).any(axis=1)
        new_state = EpisodeState(
            state.users, step, state.history, positives, shown, state.candidates, done
        )
        return new_state, clicks & filled


@dataclass(frozen=True)
class EpisodeLog:
    """Everything shown and clicked: ``slates``/``clicks`` are users × steps × slate_size
    (−1 / False where nothing was shown)."""

    users: IntArray
    slates: IntArray
    clicks: BoolArray
    policy: str = "policy"

    @property
    def impressions(self) -> IntArray:
        """Items shown per user (count)."""
        shown: IntArray = (self.slates >= 0).sum(axis=(1, 2))
        return shown


def run_episodes(
    data: SimulationData,
    policy: SlatePolicy,
    users: Split | IntArray = "test",
    *,
    batch_size: int = 256,
    seed: int = 0,
) -> EpisodeLog:
    """Run one episode per user of ``users`` under ``policy`` and log it."""
    index = data.users(users)
    batch_size = check_scalar(batch_size, "batch_size", "count", ge=1)
    seed = check_scalar(seed, "seed", "count", ge=0)
    cfg = data.config
    sim = SlateSimulator(data, seed=seed)
    slates = np.full((len(index), cfg.n_steps, cfg.slate_size), -1, dtype=np.int64)
    clicks = np.zeros(slates.shape, dtype=bool)
    for start in range(0, len(index), batch_size):
        chunk = slice(start, start + batch_size)
        state = sim.reset(index[chunk])
        policy.begin(state)
        for step in range(cfg.n_steps):
            if state.done.all():
                break
            slate = policy.act(state, cfg.slate_size)
            slate[state.done] = -1
            next_state, click = sim.step(state, slate)
            policy.observe(state, slate, click)
            slates[chunk, step] = slate
            clicks[chunk, step] = click
            state = next_state
    return EpisodeLog(index, slates, clicks, getattr(policy, "name", type(policy).__name__))
