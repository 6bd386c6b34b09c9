"""Run functions on threads and collect their results: what the server scan needs of a pool.

Why not `concurrent.futures`: importing it imports `logging` (~9 ms on the
2-core reference machine), paid by every scan that reads a server (issue 15),
and the scan uses none of its machinery beyond "start, then wait for the
result or the exception".
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Task(Generic[T]):
    """`fn()` on a thread of its own; `result()` waits and returns or re-raises."""

    def __init__(self, fn: Callable[[], T], name: str) -> None:
        self._fn = fn
        self._value: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._fn()
        except BaseException as exc:  # handed to whoever asks for the result
            self._error = exc

    def wait(self) -> None:
        self._thread.join()

    def result(self) -> T:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


class TaskGroup:
    """Tasks that all end before the `with` block is left, even when it is left early.

    As `ThreadPoolExecutor`'s `with` did: a scan that returns early (a dead host)
    still waits for the requests it started, each bounded by the host's deadline.
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._tasks: list[Task[Any]] = []

    def spawn(self, fn: Callable[[], T]) -> Task[T]:
        task = Task(fn, f"{self._name}-{len(self._tasks)}")
        self._tasks.append(task)
        return task

    def __enter__(self) -> TaskGroup:
        return self

    def __exit__(self, *exc: object) -> None:
        for task in self._tasks:
            task.wait()


def map_bounded(fn: Callable[[T], R], items: Iterable[T], workers: int, name: str) -> list[R]:
    """`[fn(x) for x in items]` on at most `workers` threads, in the order of `items`.

    The first exception (in item order) is raised once every item has run.
    """
    todo = list(enumerate(items))
    out: list[Any] = [None] * len(todo)
    errors: dict[int, BaseException] = {}
    lock = threading.Lock()
    queue = iter(todo)

    def worker() -> None:
        while True:
            with lock:
                nxt = next(queue, None)
            if nxt is None:
                return
            i, item = nxt
            try:
                out[i] = fn(item)
            except BaseException as exc:
                errors[i] = exc

    with TaskGroup(name) as group:
        for _ in range(max(1, min(workers, len(todo)))):
            group.spawn(worker)
    if errors:
        raise errors[min(errors)]
    return out
