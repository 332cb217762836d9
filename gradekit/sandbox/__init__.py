"""Student code runs here, in a separate process; the grader only ever sees plain data from it.

`worker.py` is the child (it imports nothing else of gradekit), `process.py` the parent's handle on it,
with its `clocks`, the `replies` it sends read as hostile data (and the worker's encoding, which
the grader imports from there alone), and its private `folders`;
`forkserver.py` the parent's handle on a preloaded process that forks workers for a whole class;
`isolation.py` which wall a worker runs behind, built by `bubblewrap.py`, `landlock.py` and
`syscalls.py` (the seccomp filter), with `accounts.py` (whom it runs as) and `cgroups.py` (its pids
cgroup); `host.py` what `gradekit doctor` says of this host; `packages.py` what a submission may
import; and `stops.py` how Ctrl-C or SIGTERM is taken without leaving any of them behind.
"""

from gradekit.sandbox.process import Worker

__all__ = ["Worker"]
