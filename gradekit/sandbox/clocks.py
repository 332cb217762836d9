"""A worker's clocks, read by the grader from the kernel, and the limits a call is held to by them.

A limit counted on the wall clock would grade the same file differently on an idle laptop and on a
course server running many grades at once. So a call is timed by what the worker did: the CPU time
of the whole process, every thread of it, and the time it spent blocked (sleeping, waiting on a read
that never returns): in a sandbox there is nothing an honest call waits for, so a blocked second
counts as a computed one. The time the worker spent ready to run but waiting for a CPU, which is
what a busy machine adds, is left out; so is the time the worker, its answer sent, slept while the
grader, woken by that answer, ran or waited for a CPU to read it: the grader's running is charged to a
budget on its own, and its waiting is what a busy machine adds. All of it is read from /proc, where
nothing the worker does can change it; what the worker reports of itself is never believed over it.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from gradekit.course_terms import seconds
from gradekit.errors import CallTimedOut

# /proc counts CPU time in clock ticks, and the grader reads it up to a poll slice late: a call is
# stopped only once it is clearly past its limit.
CPU_MARGIN = 0.25


@dataclass(frozen=True)
class Clocks:
    """Where a worker's clocks stood at one moment: its CPU seconds, the monotonic wall-clock time, and
    the seconds its main thread had spent waiting for a CPU and running on one (to the nanosecond, where
    the CPU seconds count clock ticks); None for a count /proc could not give."""

    cpu: float | None
    wall: float
    waited: float | None
    ran: float | None = None


@dataclass(frozen=True)
class Reading:
    """One reading of a process's /proc files: its CPU seconds (every thread), how many threads it
    has, and the seconds its main thread spent waiting for a CPU and running on one."""

    cpu: float
    threads: int
    waited: float | None
    ran: float | None = None


class ProcessClock:
    """One process's clocks, read from /proc through descriptors opened once: a reading is one or two
    system calls, and a descriptor keeps naming its process (reading it fails once the process is
    gone) even after the pid is used again."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._stat = os.open(f"/proc/{pid}/stat", os.O_RDONLY | os.O_CLOEXEC)
        self._ticks = os.sysconf("SC_CLK_TCK")
        try:
            self._schedstat = os.open(f"/proc/{pid}/schedstat", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:  # a kernel built without scheduler statistics
            self._schedstat = -1
        self.last = Reading(0.0, 1, 0.0)  # the last reading that succeeded

    def read(self) -> Reading | None:
        """User plus system time of the whole process and its thread count (fields 14, 15 and 20 of
        stat), and its main thread's wait for a CPU and time on one (fields 2 and 1 of schedstat, in
        nanoseconds); None once the process is gone."""
        try:
            fields = os.pread(self._stat, 1024, 0).rpartition(b")")[2].split()
            cpu = (int(fields[11]) + int(fields[12])) / self._ticks
            threads = int(fields[17])
        except (OSError, IndexError, ValueError):
            return None
        ran = waited = None
        if self._schedstat >= 0:
            try:
                ran, waited = _schedstat(os.pread(self._schedstat, 256, 0))
            except (OSError, ValueError):
                ran = waited = None
        self.last = Reading(cpu, threads, waited, ran)
        return self.last

    def close(self) -> None:
        for fd in (self._stat, self._schedstat):
            if fd >= 0:
                os.close(fd)


def awake() -> float | None:
    """Seconds the calling thread has spent running or waiting for a CPU (fields 1 and 2 of its
    schedstat); None where the kernel does not count them. The grader asks before and after each
    wait for a reply, so each thread opens its file once (`_OwnStat`)."""
    try:
        stat = getattr(_own, "stat", None)
        if stat is None or stat.thread != threading.get_native_id():
            stat = _own.stat = _OwnStat(os.open("/proc/thread-self/schedstat", os.O_RDONLY | os.O_CLOEXEC))
        return sum(_schedstat(os.pread(stat.fd, 256, 0)))
    except (OSError, ValueError):
        return None


class _OwnStat:
    """A thread's schedstat, open: /proc/thread-self names the thread that opened it, so it is kept per
    thread (`_own`), closed with it, and opened again by a thread of another id (a forked process's)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.thread = threading.get_native_id()

    def __del__(self) -> None:
        os.close(self.fd)


_own = threading.local()


def _schedstat(data: bytes) -> tuple[float, float]:
    """The seconds a thread has run on a CPU and waited for one, from its schedstat (in nanoseconds);
    ValueError where `data` does not hold them."""
    ran, waited = data.split()[:2]
    return int(ran) / 1e9, int(waited) / 1e9


def limit(timeout: float) -> float:
    """The seconds of computing or blocking past which a call of `timeout` is stopped."""
    return timeout + CPU_MARGIN


def enforce(since: Clocks, now: Clocks, timeout: float, calls: int = 1) -> None:
    """Raise CallTimedOut once the worker has gone from `since` to `now` past `calls` calls' limits.

    Each call may compute or block for `timeout` s, and its CPU time (every thread's) may not pass
    that either; the time it waited for a CPU is not counted. Where /proc cannot count (not Linux),
    `timeout` s of wall-clock time.
    """
    wall = now.wall - since.wall
    if since.cpu is None or now.cpu is None:
        if wall > calls * timeout:
            raise CallTimedOut(f"did not answer within {seconds(timeout)} s")
        return
    computed = now.cpu - since.cpu
    waited = 0.0 if now.waited is None or since.waited is None else now.waited - since.waited
    if max(computed, wall - waited) <= calls * limit(timeout):
        return
    if computed >= (wall - waited) / 2:  # it spent its time computing (the CPU count lags a tick or two)
        raise CallTimedOut(f"took more than {seconds(timeout)} s of CPU time")
    raise CallTimedOut(
        f"did not answer within {seconds(timeout)} s, computing or blocked (a sleep, or a read that never returns?)"
    )


def blocked(start: Clocks, end: Clocks, answered: float = 0.0) -> float:
    """The seconds between two readings that the worker's main thread spent neither running nor waiting
    for a CPU, less those the grader's thread was awake for meanwhile, by `answered`: asleep or
    blocked, which counts against its budgets as computing does.

    `answered` is the time the grader's thread spent running or waiting for a CPU (see `awake`) since
    the start of the wait the answer ended. The grader slept until the answer came, and the answer
    woke it: its time awake began then, and the worker, its answer sent and no call queued, had
    nothing to do but sleep till the grader's next request. So that much of the sleep is the grader's
    turn, on a busy machine mostly its wait for a CPU, and is not charged: whatever it does meanwhile,
    a worker can shift onto the grader no more than the grader's own time awake after an answer,
    which is charged to a budget of its own. Taking off only the sleep past the time the grader slept
    would charge, on a busy machine, as much sleep as the worker waited for a CPU while the grader
    slept. The main thread's time on a CPU is counted to the nanosecond where the kernel gives it: the
    process's CPU time counts whole clock ticks, and a call shorter than one would otherwise seem to
    have slept."""
    if start.cpu is None or end.cpu is None:
        return 0.0
    wall = end.wall - start.wall
    ran = end.cpu - start.cpu if start.ran is None or end.ran is None else end.ran - start.ran
    waited = 0.0 if start.waited is None or end.waited is None else end.waited - start.waited
    return max(0.0, wall - waited - ran - answered)
