"""Crash test: a writer killed with SIGKILL at random moments loses nothing and pays nothing twice.

A writer process (forked by the child process :mod:`crash_child`) opens a
programme and delivers a seeded stream of a shop (members, binds, multi-line
orders, receipts, refunds, withdrawals, engagement, ticks; text and integer ids;
in-call duplicates and re-deliveries; a fifth rejected by the rules) in calls of
1-50 events, one transaction each. The test kills it with SIGKILL after a delay
drawn uniformly over the time its run would take (timed first by an uninterrupted
writer on a scratch programme), so kills land while the store opens, inside calls
(before or after the commit) and between them. After each kill the test reopens
the programme and checks that

- ``audit()`` is clean (the ledger, accounts and relations equal a replay of the log);
- the event log is the first-arrival stream up to the end of some call (no call
  half-applied), with the outcome the reference gives each event (no event id
  changes its outcome), and holds at least every call the writer saw return;
- the head row's counters equal the rows of the tables they count;

then a new writer delivers the whole stream again from the start. At the end a
writer runs to completion, and the store's settlement, balances and Merkle root
equal ``settle`` on the deduplicated stream: nothing lost, nothing paid twice.
Where the kills landed is printed (``pytest -rA`` shows it).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest
from sqlalchemy import Engine, func, select

from chainmall.referral import Settlement
from chainmall.referral.store import ReferralStore, database, schema
from tests.referral.equality import assert_same
from tests.referral.store.crash_child import CONFIG, calls, stream
from tests.referral.store.deliveries import event_id, expected

pytestmark = pytest.mark.skipif(
    not (hasattr(signal, "SIGKILL") and hasattr(os, "fork")),
    reason="the crash test forks writers and kills them with SIGKILL (POSIX only)",
)

CHILD = Path(__file__).with_name("crash_child.py")
ROOT = Path(__file__).resolve().parents[3]

Progress = list[tuple[str, int, float]]
FINISHED = "finished before the kill"
LOG_COUNTERS = {
    "n_entries": schema.entries,
    "n_relations": schema.relation_log,
    "n_points": schema.point_log,
    "n_activations": schema.activations,
}
"""Head row counters and the tables whose rows they count."""


@dataclass(frozen=True)
class Plan:
    """What a round delivers and what the store must hold after it."""

    seed: int
    n_events: int
    calls: list[tuple[list[int], bool]]
    bounds: list[int]  # distinct events stored once the first i calls committed
    want: Settlement
    outcomes: list[str]  # the reference outcome of each event, in first-arrival order

    @classmethod
    def of(cls, seed: int, n_events: int) -> Plan:
        events = stream(seed, n_events)
        plan = calls(seed, n_events)
        seen: set[int] = set()
        bounds = [0]
        for batch, _ in plan:
            seen.update(batch)
            bounds.append(len(seen))
        assert bounds[-1] == n_events
        want = expected(events, CONFIG)
        outcomes = ["ACCEPTED"] * n_events
        for seq, reason in zip(want.rejected["seq"], want.rejected["reason"], strict=True):
            outcomes[seq - 1] = reason
        return cls(seed, n_events, plan, bounds, want, outcomes)

    def calls_stored(self, stored: int) -> int:
        """How many calls (from the start) a store holding ``stored`` events has committed."""
        return self.bounds.index(stored)


class Child:
    """The crash child (:mod:`crash_child`): it forks a writer per run, which the test may kill."""

    def __init__(self, url: str, plan: Plan, workdir: Path) -> None:
        paths = [str(ROOT), str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]
        self.workdir = workdir
        self.runs = 0
        self.errors: IO[str] = (workdir / "child.err").open("a")
        self.process = subprocess.Popen(
            [sys.executable, str(CHILD), url, str(plan.seed), str(plan.n_events)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errors,
            env={
                **os.environ,
                "PYTHONPATH": os.pathsep.join(p for p in paths if p),
                "OPENBLAS_NUM_THREADS": "1",  # no idle BLAS threads in a process that forks
            },
            text=True,
            encoding="utf-8",
        )
        if self._answer() != "ready":
            self.process.wait()
            pytest.fail(f"the crash child did not start:\n{self._errors()}")

    def run(self, programme: str, *, passes: int = 1, kill_after: float | None = None) -> Progress:
        """One writer's run on ``programme``: SIGKILLed ``kill_after`` seconds in, else to its end.

        Returns the writer's progress lines.
        """
        self.runs += 1
        progress = self.workdir / f"progress-{self.runs}.txt"
        self._tell(f"{programme} {progress} {passes}")
        writer = int(self._answer())
        if kill_after is not None:
            time.sleep(kill_after)
            os.kill(writer, signal.SIGKILL)  # not reaped before the next line: still ours
        self._tell("reap")
        code = int(self._answer())
        if code not in (0, -signal.SIGKILL) or (kill_after is None and code != 0):
            pytest.fail(f"the crash writer failed (exit {code}):\n{self._errors()}")
        return read_progress(progress)

    def close(self) -> None:
        """End the child (it stops at the end of its stdin)."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self.errors.close()

    def _tell(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def _answer(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()

    def _errors(self) -> str:
        self.errors.flush()
        return (self.workdir / "child.err").read_text()[-4000:]


def read_progress(path: Path) -> Progress:
    """A writer's progress lines: ``(step, call index, seconds since it started)``."""
    if not path.exists():
        return []
    lines = [line.split() for line in path.read_text().splitlines()]
    return [(step, int(index), float(seconds)) for step, index, seconds in lines]


@dataclass(frozen=True)
class Timing:
    """How long an uninterrupted writer takes, step by step (seconds)."""

    opened: float
    new: list[float]  # each call of the first pass (new events)
    again: list[float]  # each call delivered again (nothing new)

    @classmethod
    def of(cls, progress: Progress, n_calls: int) -> Timing:
        opened = next(s for step, _, s in progress if step == "opened")
        done = [s for step, _, s in progress if step == "done"]
        assert len(done) == 2 * n_calls, progress[-3:]
        steps = [b - a for a, b in zip([opened, *done], done, strict=False)]
        return cls(opened, steps[:n_calls], steps[n_calls:])

    def run_length(self, committed: int) -> float:
        """A run's length when the first ``committed`` calls are stored already."""
        return self.opened + sum(self.again[:committed]) + sum(self.new[committed:])


def landing(progress: Progress, plan: Plan, before: int, after: int) -> str:
    """Where the kill landed, from the writer's last progress line and the events stored."""
    step, index, _ = progress[-1] if progress else ("open", -1, 0.0)
    if step == "finished":
        return FINISHED
    if step == "open":
        return "opening the store"
    if step in ("opened", "done"):
        return "between calls"
    if plan.bounds[index + 1] <= before:
        return "inside a call re-delivering stored events"
    if after == plan.bounds[index + 1]:
        return "inside a call, after its commit (ingest had not returned)"
    return "inside a call, before its commit (rolled back)"


def check_programme(store: ReferralStore, engine: Engine, plan: Plan) -> int:
    """Check a reopened programme (see the module docs); return how many events it holds."""
    report = store.audit()
    assert report.clean, report.problems
    log = store.event_log()
    stored = len(log)
    assert stored in plan.bounds, (
        f"{stored} events stored: not the end of a call (a call was half-applied)"
    )
    assert log["event_id"].tolist() == [event_id(i) for i in range(stored)]
    assert log["seq"].tolist() == list(range(1, stored + 1))
    assert log["outcome"].tolist() == plan.outcomes[:stored]
    check_head_counters(engine, store.programme, stored)
    return stored


def check_head_counters(engine: Engine, programme: str, stored: int) -> None:
    """The head row's counters equal the rows of the tables they count."""
    h = schema.heads
    with engine.connect() as conn:
        head = conn.execute(select(h).where(h.c.programme_id == programme)).one()
        for counter, table in LOG_COUNTERS.items():
            rows = conn.execute(
                select(func.count()).select_from(table).where(table.c.programme_id == programme)
            ).scalar_one()
            assert getattr(head, counter) == rows, (counter, getattr(head, counter), rows)
    assert (head.last_seq or 0) == stored


def check_final(store: ReferralStore, engine: Engine, plan: Plan) -> None:
    """The whole stream is stored once and equals ``settle`` on the deduplicated stream."""
    assert check_programme(store, engine, plan) == plan.n_events
    want = plan.want
    assert_same(store.settlement(), want)
    assert store.head().root == want.merkle_root().hex()
    accounts = store.balances().set_index("user_id")
    for column in ("pending_fen", "available_fen", "receivable_fen", "withdrawn_fen"):
        got = accounts[column].reindex(want.balances["user_id"], fill_value=0)
        assert got.tolist() == want.balances[column].astype("int64").tolist(), column


def calibrate(child: Child, engine: Engine, url: str, programme: str, plan: Plan) -> Timing:
    """Time an uninterrupted writer (two passes) on ``programme``; check its result."""
    timing = Timing.of(child.run(programme, passes=2), len(plan.calls))
    with closing(ReferralStore.open(url, programme=programme)) as store:
        check_final(store, engine, plan)
    return timing


def crash_round(url: str, programme: str, plan: Plan, kills: int, workdir: Path) -> Counter[str]:
    """Kill ``kills`` writers of one programme at random moments, checking after each; finish."""
    rng = random.Random(plan.seed)
    engine = database.connect(url)
    landings: Counter[str] = Counter()
    child = Child(url, plan, workdir)
    stored = acknowledged = 0
    try:
        timing = calibrate(child, engine, url, programme + "-timing", plan)
        while landings.total() - landings[FINISHED] < kills:
            assert landings[FINISHED] <= kills, f"the writers outran the kills: {landings}"
            delay = rng.uniform(0, timing.run_length(plan.calls_stored(stored)))
            lines = child.run(programme, kill_after=delay)
            with closing(ReferralStore.open(url, CONFIG, programme=programme)) as store:
                now = check_programme(store, engine, plan)
            acknowledged = max([acknowledged, *(i + 1 for step, i, _ in lines if step == "done")])
            assert now >= plan.bounds[acknowledged], "a call that returned was lost"
            assert now >= stored, f"events were lost: {stored} stored before the kill, {now} after"
            landings[landing(lines, plan, stored, now)] += 1
            stored = now
        assert child.run(programme)[-1][0] == "finished"
    finally:
        child.close()
    with closing(ReferralStore.open(url, programme=programme)) as store:
        check_final(store, engine, plan)
    engine.dispose()
    return landings


def run_rounds(
    database_url: str, tmp_path: Path, name: str, seeds: range, kills: int, n_events: int
) -> None:
    """Crash rounds on fresh programmes; print where the kills landed (``-rA`` shows it)."""
    start = time.perf_counter()
    landings: Counter[str] = Counter()
    for seed in seeds:
        workdir = tmp_path / f"round-{seed}"
        workdir.mkdir()
        plan = Plan.of(seed, n_events)
        landings += crash_round(database_url, f"{name}-{seed}", plan, kills, workdir)
    killed = landings.total() - landings[FINISHED]
    seconds = time.perf_counter() - start
    print(f"{killed} kills in {seconds:.1f} s; landed: {dict(landings)}")  # noqa: T201 (-rA)
    assert killed == kills * len(seeds), landings


def test_crash_kills_lose_nothing(database_url: str, tmp_path: Path) -> None:
    """20 kills of a writer of 1,500 events; every reopen clean, the end equal to ``settle``."""
    run_rounds(database_url, tmp_path, "crash", range(21, 22), kills=20, n_events=1_500)


@pytest.mark.slow
def test_crash_many_kills(database_url: str, tmp_path: Path) -> None:
    """200 kills: ten programmes of 2,000 events, 20 kills each."""
    run_rounds(database_url, tmp_path, "crash-slow", range(100, 110), kills=20, n_events=2_000)
