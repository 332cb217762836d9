"""Student code runs here, in a separate process; the grader only ever sees plain data from it.

`worker.py` is the child (it imports nothing else of gradekit), `process.py` the parent's handle on it,
`forkserver.py` the parent's handle on a preloaded process that forks workers for a whole class,
`isolation.py` the OS sandbox, and `stops.py` how Ctrl-C or SIGTERM is taken without leaving any of
them behind.
"""

from gradekit.sandbox.process import Worker

__all__ = ["Worker"]
