"""Gymnasium interface to the slate simulator (one simulated user per episode).

Observation (a ``Dict``): ``positives`` — the latest ``history_len`` positive
items (visible positives, then clicks; −1 pads the front), ``shown`` and
``available`` — 0/1 item masks, ``step`` — slates shown so far. Ratings never
appear in it. Action: ``slate_size`` item indices (``MultiDiscrete``); an item
already shown, outside the candidates or repeated is an impression that is never
clicked. Reward: clicks on the slate. ``info`` holds ``clicks`` (per slot) and
the raw ``user_id``. ``reset(options={"user": row})`` picks a user; otherwise
one of the split's users is drawn with the env's seeded generator.
"""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
import numpy.typing as npt
from gymnasium import spaces

from chainmall.recommend.click_models import SimulationData, Split
from chainmall.recommend.simulator import EpisodeState, SlateSimulator

__all__ = ["RecommendationEnv"]

Obs = dict[str, Any]


class RecommendationEnv(gym.Env[Obs, npt.NDArray[np.int64]]):
    """Slate recommendation for one simulated user per episode.

    Args:
        data: the simulation (:func:`~chainmall.recommend.build_simulation`).
        split: which users episodes are drawn from.
        history_len: positives kept in the observation (items).
    """

    metadata = {"render_modes": []}  # noqa: RUF012 (gymnasium declares it an instance field)

    def __init__(
        self, data: SimulationData, split: Split = "train", *, history_len: int = 50
    ) -> None:
        super().__init__()
        self.data = data
        self.users = data.users(split)
        self.history_len = history_len
        cfg = data.config
        n = data.n_items
        self.observation_space = spaces.Dict(
            {
                "positives": spaces.Box(-1, n - 1, shape=(history_len,), dtype=np.int64),
                "shown": spaces.MultiBinary(n),
                "available": spaces.MultiBinary(n),
                "step": spaces.Discrete(cfg.n_steps + 1),
            }
        )
        self.action_space = spaces.MultiDiscrete(np.full(cfg.slate_size, n, dtype=np.int64))
        self._sim = SlateSimulator(data)
        self._state: EpisodeState | None = None

    def _observation(self, state: EpisodeState) -> Obs:
        positives = np.full(self.history_len, -1, dtype=np.int64)
        last = state.positives[0][-self.history_len :]
        if last:
            positives[self.history_len - len(last) :] = last
        return {
            "positives": positives,
            "shown": state.shown[0].astype(np.int8),
            "available": state.available()[0].astype(np.int8),
            "step": int(state.step),
        }

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Obs, dict[str, Any]]:
        super().reset(seed=seed)
        self._sim.rng = np.random.default_rng(int(self.np_random.integers(2**63 - 1)))
        if options and "user" in options:
            user = int(options["user"])
        else:
            user = int(self.np_random.choice(self.users))
        self._state = self._sim.reset(np.array([user]))
        return self._observation(self._state), {"user_id": self.data.user_ids[user]}

    def step(
        self, action: npt.NDArray[np.int64]
    ) -> tuple[Obs, SupportsFloat, bool, bool, dict[str, Any]]:
        if self._state is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        slate = np.asarray(action, dtype=np.int64).reshape(1, -1)
        self._state, clicks = self._sim.step(self._state, slate)
        user = self.data.user_ids[self._state.users[0]]
        info = {"clicks": clicks[0], "user_id": user}
        terminated = bool(self._state.done[0])
        return self._observation(self._state), float(clicks.sum()), terminated, False, info
