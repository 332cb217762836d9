"""Empties the guard's own tables before it reads the reference, through the worker script's module.

Attack: the worker script runs as `__main__`, and its audit hook looked its tables up there by name at
every event (the blocked folders and names, the events that start processes, send signals or raise
limits): clearing those five sets, or rebinding their names, disarmed it, and the reference (whose
path is in the worker's argv) was read for full marks with no code of its own. It clears every set
and frozenset-like table it finds there, rebinds each to an empty set, then tries the reference.

A sound guard keeps its own copies where no module name reaches: the read is refused. The guard is no
security boundary (a student's own laptop is its only use), but it must not be turned off by a line.
"""
import __main__

REFERENCE = "__REFERENCE__"
_cleared = []
for _name in dir(__main__):
    _table = getattr(__main__, _name)
    if isinstance(_table, (set, frozenset, dict)) and _name.isupper():
        if hasattr(_table, "clear"):
            _table.clear()
        setattr(__main__, _name, type(_table)())
        _cleared.append(_name)
print(f"cleared {len(_cleared)} tables")

try:
    with open(REFERENCE) as _handle:
        _namespace = {}
        exec(_handle.read(), _namespace)
    print("read the reference")
except OSError as refusal:
    _namespace = None
    print(f"refused {type(refusal).__name__}")


def _stolen(name):
    def call(*args):
        if _namespace is None:
            raise RuntimeError("found no copy of the reference")
        return _namespace[name](*args)

    return call


softmax = _stolen("softmax")
cross_entropy_loss = _stolen("cross_entropy_loss")
sequence_loss = _stolen("sequence_loss")
perplexity = _stolen("perplexity")
softmax_cross_entropy_grad = _stolen("softmax_cross_entropy_grad")
