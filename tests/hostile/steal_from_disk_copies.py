"""Does no work of its own: answers with the reference's functions, read from a copy on disk.

It looks wherever a copy of the reference could be: the grader's source checkout (its real path,
and the repository root with every layout), where importlib.util.find_spec says gradekit and its
reference are, an editable install's finder (whose MAPPING names the checkout), every installed
gradekit found by globbing sys.path and site.getsitepackages(), and every file a gradekit
*.dist-info RECORD lists. The first one it can read, it runs and answers with.
"""
import glob
import importlib.util
import os
import re
import site
import sys

ATTACK = "steal_from_disk_copies"
REPOSITORY = "__REPOSITORY__"  # the grader's source checkout, as a student could guess it
REFERENCE = "__REFERENCE__"  # the reference's real path inside it
NAME = "cross_entropy.py"


def package_folders():
    """Where gradekit says, or is said, to live."""
    for name in ("gradekit.reference", "gradekit"):
        try:
            spec = importlib.util.find_spec(name)
            yield from spec.submodule_search_locations or ()
        except Exception:
            continue
    for finder in glob.glob(os.path.join(glob.escape(sys.prefix), "lib", "python3*", "site-packages",
                                         "__editable__*gradekit*finder.py")):
        with open(finder) as handle:
            yield from re.findall(r"'(/[^']+)'", handle.read())


def candidates():
    yield REFERENCE
    for layout in ("reference", "gradekit/reference", "src/gradekit/reference"):
        yield os.path.join(REPOSITORY, layout, NAME)
    for folder in package_folders():
        yield os.path.join(folder, NAME)
        yield os.path.join(folder, "reference", NAME)
    entries = [p for p in sys.path if p] + site.getsitepackages() + [site.getusersitepackages()]
    for entry in entries:
        yield from glob.glob(os.path.join(glob.escape(entry), "gradekit*", "**", NAME), recursive=True)
        for record in glob.glob(os.path.join(glob.escape(entry), "gradekit*.dist-info", "RECORD")):
            with open(record) as handle:
                for line in handle:
                    if line.split(",")[0].endswith(NAME):
                        yield os.path.join(entry, line.split(",")[0])


def steal():
    """The reference's namespace, or None; and every path that could not be read, with why."""
    refusals = []
    for path in candidates():
        try:
            with open(path) as handle:
                source = handle.read()
        except OSError as refusal:
            refusals.append(f"{path}: {type(refusal).__name__}")
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
