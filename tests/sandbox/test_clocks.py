"""The grader's own clock (`clocks.awake`): each thread reads its own, in a forked process too, and a
thread that ends leaves no descriptor behind."""

from __future__ import annotations

import gc
import os
import threading
import time

import pytest

from gradekit.sandbox import clocks

pytestmark = pytest.mark.skipif(clocks.awake() is None, reason="this kernel keeps no scheduler statistics")


def _spin(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_each_thread_reads_its_own_time_awake():
    readings: dict[str, float] = {}

    def spinner() -> None:
        before = clocks.awake()
        _spin(0.3)
        readings["spinner"] = clocks.awake() - before

    mine = clocks.awake()
    thread = threading.Thread(target=spinner)
    thread.start()
    thread.join()
    readings["main"] = clocks.awake() - mine
    assert readings["spinner"] >= 0.29
    assert readings["main"] < 0.15  # it waited on the spinner, asleep


def test_a_forked_process_reads_its_own_thread_not_the_one_it_was_forked_from():
    _spin(0.5)
    here = clocks.awake()  # this thread's file is open now, and a fork inherits it
    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(read)
        os.write(write, repr(clocks.awake()).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as answer:
        theirs = float(answer.read())
    os.waitpid(child, 0)
    assert theirs < 0.25 < 0.5 <= here


def test_a_thread_that_ends_leaves_no_descriptor_open():
    before = len(os.listdir("/proc/self/fd"))
    threads = [threading.Thread(target=clocks.awake) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    gc.collect()
    assert len(os.listdir("/proc/self/fd")) <= before
