"""Journaled containers for the fold's state: every change of an event can be undone.

The fold applies an event through a :class:`Journal`: each container records
what it overwrote, so an event that fails part-way is rolled back in full (the
fold is atomic per event), and the keys an event touched are known afterwards (a
durable store writes exactly those). Containers:

- :class:`Table` — a mapping (optionally with a default for absent keys);
- :class:`Log` — an append-only list;
- :class:`Queue` — a min-heap of tuples (the settlement and energy queues);
- :class:`Cell` — one value (``last_seq``, ...).

Values stored in a container are immutable (ints, strings, tuples, frozen
dataclasses): a change is always a new value written through the container.

A container may have a *source*: a function that loads a key the container has
not seen (a database, for the store). The in-memory fold has none.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Hashable, Iterator
from typing import Any, Generic, TypeVar

__all__ = ["ABSENT", "Cell", "Journal", "Log", "Queue", "Table"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Absent:
    """The value of a key that does not exist (also cached for keys a source lacks)."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


class Journal:
    """What the current event changed: undo actions, and the keys touched per container."""

    def __init__(self) -> None:
        self.undo_actions: list[Callable[[], None]] = []
        self.touched: dict[int, tuple[Any, set[Any]]] = {}

    def record(self, container: Any, key: Any, undo: Callable[[], None]) -> None:
        """Remember how to undo a change of ``key`` in ``container``."""
        self.undo_actions.append(undo)
        entry = self.touched.get(id(container))
        if entry is None:
            self.touched[id(container)] = (container, {key})
        else:
            entry[1].add(key)

    def rollback(self) -> None:
        """Undo every recorded change, newest first."""
        for undo in reversed(self.undo_actions):
            undo()
        self.undo_actions.clear()
        self.touched.clear()


class _Journaled:
    """A container that records its changes in the journal of the event being applied."""

    journal: Journal | None = None

    def _record(self, key: Any, undo: Callable[[], None]) -> None:
        if self.journal is not None:
            self.journal.record(self, key, undo)


class Table(_Journaled, Generic[K, V]):
    """A journaled mapping; ``default`` is the value of absent keys (None: KeyError)."""

    def __init__(
        self,
        name: str,
        default: Any = ABSENT,
        source: Callable[[K], Any] | None = None,
    ) -> None:
        self.name = name
        self.default = default
        self.source = source
        self.data: dict[K, Any] = {}

    def _load(self, key: K) -> Any:
        value = self.data.get(key, ABSENT)
        if value is ABSENT and self.source is not None and key not in self.data:
            value = self.source(key)
            self.data[key] = value  # cached, ABSENT included
        return value

    def get(self, key: K, default: Any = None) -> Any:
        """The value of ``key``, ``default`` if absent."""
        value = self._load(key)
        return default if value is ABSENT else value

    def __getitem__(self, key: K) -> V:
        value = self._load(key)
        if value is ABSENT:
            if self.default is ABSENT:
                raise KeyError(key)
            return self.default  # type: ignore[no-any-return]
        return value  # type: ignore[no-any-return]

    def __contains__(self, key: object) -> bool:
        return self._load(key) is not ABSENT  # type: ignore[arg-type]

    def __setitem__(self, key: K, value: V) -> None:
        old = self._load(key)
        self._record(key, lambda: self.data.__setitem__(key, old))
        self.data[key] = value

    def __delitem__(self, key: K) -> None:
        old = self._load(key)
        if old is ABSENT:
            raise KeyError(key)
        self._record(key, lambda: self.data.__setitem__(key, old))
        self.data[key] = ABSENT

    def setdefault(self, key: K, value: V) -> V:
        """The value of ``key``; set to ``value`` first if absent."""
        if key not in self:
            self[key] = value
        return self[key]

    def add(self, key: K, delta: int) -> None:
        """``self[key] += delta`` (the default counts as the start)."""
        total: Any = self[key]
        self[key] = total + delta

    def items(self) -> Iterator[tuple[K, V]]:
        """The present keys and values held in memory (not the source's others)."""
        return ((k, v) for k, v in self.data.items() if v is not ABSENT)

    def __len__(self) -> int:
        return sum(1 for v in self.data.values() if v is not ABSENT)

    def __iter__(self) -> Iterator[K]:
        return (k for k, v in self.data.items() if v is not ABSENT)

    def __deepcopy__(self, memo: dict[int, Any]) -> Table[K, V]:
        copy = Table[K, V](self.name, self.default, self.source)
        copy.data = dict(self.data)
        return copy


class Log(_Journaled, Generic[V]):
    """A journaled append-only list."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.rows: list[V] = []

    def append(self, row: V) -> None:
        """Add ``row`` at the end."""
        self._record(len(self.rows), self._drop_last)
        self.rows.append(row)

    def _drop_last(self) -> None:
        self.rows.pop()

    def __iter__(self) -> Iterator[V]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __deepcopy__(self, memo: dict[int, Any]) -> Log[V]:
        copy = Log[V](self.name)
        copy.rows = list(self.rows)
        return copy


class Queue(_Journaled):
    """A journaled min-heap of tuples; :meth:`pop_due` takes the items up to a bound."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.heap: list[tuple[Any, ...]] = []

    def push(self, item: tuple[Any, ...]) -> None:
        """Add ``item``."""
        self._record(item, lambda: self._remove(item))
        heapq.heappush(self.heap, item)

    def pop_due(self, bound: Any) -> list[tuple[Any, ...]]:
        """Remove and return every item whose first field is ``<= bound``, in heap order."""
        due = []
        while self.heap and self.heap[0][0] <= bound:
            item = heapq.heappop(self.heap)
            self._record(item, lambda item=item: heapq.heappush(self.heap, item))  # type: ignore[misc]
            due.append(item)
        return due

    def _remove(self, item: tuple[Any, ...]) -> None:
        self.heap.remove(item)
        heapq.heapify(self.heap)

    def __len__(self) -> int:
        return len(self.heap)

    def __deepcopy__(self, memo: dict[int, Any]) -> Queue:
        copy = Queue(self.name)
        copy.heap = list(self.heap)
        return copy


class Cell(_Journaled, Generic[V]):
    """A journaled single value."""

    def __init__(self, name: str, value: V) -> None:
        self.name = name
        self._value = value

    @property
    def value(self) -> V:
        """The current value."""
        return self._value

    @value.setter
    def value(self, value: V) -> None:
        old = self._value
        self._record(None, lambda: setattr(self, "_value", old))
        self._value = value

    def __deepcopy__(self, memo: dict[int, Any]) -> Cell[V]:
        return Cell(self.name, self._value)
