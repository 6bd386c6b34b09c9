"""Threads for the server scan (ctxfix/threads.py): order, bounds, errors, waiting."""

from __future__ import annotations

import threading
import time

import pytest

from ctxfix.threads import TaskGroup, map_bounded


def test_map_bounded_keeps_order_and_never_runs_more_than_its_workers() -> None:
    running, peak, lock = 0, 0, threading.Lock()

    def work(x: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.01 * (x % 3))  # finish out of order
        with lock:
            running -= 1
        return x * x

    assert map_bounded(work, range(20), 4, "t") == [x * x for x in range(20)]
    assert 1 < peak <= 4


def test_the_first_error_in_item_order_is_raised_after_every_item_ran() -> None:
    ran: list[int] = []

    def work(x: int) -> int:
        ran.append(x)
        if x in (3, 7):
            time.sleep(0.05 if x == 3 else 0)  # 7 fails first in time
            raise ValueError(f"item {x}")
        return x

    with pytest.raises(ValueError, match="item 3"):
        map_bounded(work, range(10), 5, "t")
    assert sorted(ran) == list(range(10))


def test_a_group_left_early_still_waits_for_what_it_started() -> None:
    finished = threading.Event()

    def slow() -> None:
        time.sleep(0.1)
        finished.set()

    def scan() -> str:
        with TaskGroup("t") as group:
            group.spawn(slow)
            return "early"  # a dead host's verdict, before its other requests end

    assert scan() == "early" and finished.is_set()


def test_a_task_hands_its_exception_to_the_caller() -> None:
    with TaskGroup("t") as group:
        task = group.spawn(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        task.result()
