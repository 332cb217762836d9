"""Does no work of its own: answers with the reference's functions, read through folder descriptors.

It opens each folder a copy of the reference could be in (the root, the source checkout, its
reference/ folder, every sys.path entry, where find_spec says gradekit is) with os.open, then the
file relative to that descriptor with os.open(name, os.O_RDONLY, dir_fd=...): a guard that checks
the paths it is given sees only the relative part, never the folder it resolves against. Whatever
it reads it runs, and answers with.
"""
import importlib.util
import os
import sys

ATTACK = "steal_by_dir_fd"
REPOSITORY = "__REPOSITORY__"  # the grader's source checkout, as a student could guess it
REFERENCE = "__REFERENCE__"  # the reference's real path inside it


def candidates():
    """(folder, path relative to it) pairs, each of which names the reference if it is there."""
    yield "/", REFERENCE.lstrip("/")
    yield os.path.dirname(REFERENCE), os.path.basename(REFERENCE)
    yield REPOSITORY, os.path.relpath(REFERENCE, REPOSITORY)
    yield REPOSITORY, os.path.join("gradekit", "reference", "cross_entropy.py")
    for entry in sys.path:  # an installed copy: site-packages/gradekit/reference/cross_entropy.py
        yield entry or ".", os.path.join("gradekit", "reference", "cross_entropy.py")
    spec = importlib.util.find_spec("gradekit")
    for folder in (spec.submodule_search_locations or ()) if spec else ():
        yield folder, os.path.join("reference", "cross_entropy.py")


def read_through(folder, relative):
    """The text of `relative`, opened relative to a descriptor of `folder`."""
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with os.fdopen(os.open(relative, os.O_RDONLY, dir_fd=descriptor)) as handle:
            return handle.read()
    finally:
        os.close(descriptor)


def steal():
    """The reference's namespace, or None; and every attempt that failed, with why."""
    refusals = []
    for folder, relative in candidates():
        try:
            source = read_through(folder, relative)
        except OSError as refusal:
            refusals.append(f"{folder} + {relative}: {type(refusal).__name__}")
            continue
        namespace = {}
        exec(source, namespace)
        if "softmax" in namespace:
            return namespace, refusals
    return None, refusals


STOLEN, REFUSALS = steal()
print(f"{ATTACK}: {'stole the reference' if STOLEN else 'found no copy of the reference'}"
      f" after {len(REFUSALS)} refusals")
for refusal in REFUSALS[:40]:
    print(f"  {refusal}")


def stolen(name):
    if STOLEN is None:
        raise LookupError(f"{ATTACK} found no copy of the reference")
    return STOLEN[name]


def softmax(logits):
    return stolen("softmax")(logits)


def cross_entropy_loss(logits, true_id):
    return stolen("cross_entropy_loss")(logits, true_id)


def sequence_loss(logits_list, true_ids):
    return stolen("sequence_loss")(logits_list, true_ids)


def perplexity(loss):
    return stolen("perplexity")(loss)


def softmax_cross_entropy_grad(logits, true_id):
    return stolen("softmax_cross_entropy_grad")(logits, true_id)
