"""Does no work of its own: answers with the reference's functions, found from folder names in /proc.

The sandbox's own process table names folders: /proc/self/cmdline, /proc/1/cmdline (whatever runs
the worker, with its arguments) and every other /proc/N's cmdline, environ and cwd, and
/proc/self/mountinfo. It takes every absolute path in them and each folder above it, looks for
the reference under each (reference/cross_entropy.py, gradekit/reference/cross_entropy.py), and
walks each named folder for any cross_entropy.py. The first one it can read, it runs.
"""
import os
import re

ATTACK = "steal_via_proc_cmdline"
NAME = "cross_entropy.py"
WALKED_ENTRIES = 20_000  # a bound on the walk, so the search ends well within the load timeout


def proc_texts():
    """What /proc says about every process the worker can see."""
    pids = ["self", "1"] + [p for p in os.listdir("/proc") if p.isdigit()]
    for pid in pids:
        for part in ("cmdline", "environ"):
            try:
                with open(f"/proc/{pid}/{part}", "rb") as handle:
                    yield handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
            except OSError:
                continue
        try:
            yield os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
    with open("/proc/self/mountinfo") as handle:
        yield handle.read()


def named_folders():
    """Every absolute path /proc mentions and each folder above it, longest first, the root left out."""
    folders = set()
    for text in proc_texts():
        for path in re.findall(r"/[\w.+@-]+(?:/[\w.+@-]+)*", text):
            while path not in ("/", ""):
                folders.add(path)
                path = os.path.dirname(path)
    return sorted(folders, key=len, reverse=True)


def candidates(folders):
    for folder in folders:
        for layout in ("", "reference", "gradekit/reference"):
            yield os.path.join(folder, layout, NAME)
    walked = 0
    for folder in folders:
        for root, _, files in os.walk(folder):
            walked += 1 + len(files)
            if NAME in files:
                yield os.path.join(root, NAME)
            if walked > WALKED_ENTRIES:
                return


def steal():
    """The reference's namespace, or None; and how many folders and files it tried."""
    folders = named_folders()
    refusals = [f"{len(folders)} folders named in /proc"]
    for path in candidates(folders):
        try:
            with open(path) as handle:
                source = handle.read()
        except OSError:
            continue
        namespace = {}
        try:
            exec(source, namespace)
        except Exception as failure:  # another package's cross_entropy.py
            refusals.append(f"{path}: {type(failure).__name__}")
            continue
        if callable(namespace.get("softmax_cross_entropy_grad")):
            return namespace, refusals
        refusals.append(f"{path}: not the reference")
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
