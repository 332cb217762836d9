"""Reads what the host's /proc shows: its sockets, its mounts and its other processes.

Attack: a worker behind Landlock alone was shown its own /proc entries, and through them the host's
TCP and UNIX sockets (/proc/self/net, with /proc/net a link to it) and every mount (/proc/self/mounts,
mountinfo); a look at /proc itself or /proc/1 names the host's processes. At import it reads each,
lists /proc, and reads the hidden reference (the test passes its path in, as a student could guess
it), printing what each gave. The functions are the reference.

A sound grader: under Landlock each is refused; in bubblewrap /proc is the sandbox's own (a network
of its own with no socket, the sandbox's init as pid 1) and the reference is not there. Full marks.
"""
import math
import os


def softmax(logits):
    top = max(logits)  # shift by the max so exp never overflows
    exps = [math.exp(z - top) for z in logits]
    total = sum(exps)
    return [e / total for e in exps]


def cross_entropy_loss(logits, true_id):
    top = max(logits)
    log_sum_exp = top + math.log(sum(math.exp(z - top) for z in logits))
    return log_sum_exp - logits[true_id]


def sequence_loss(logits_list, true_ids):
    losses = [cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids)]
    return sum(losses) / len(losses)


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    grad = softmax(logits)
    grad[true_id] -= 1.0
    return grad


def _read(path):
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except Exception as refusal:  # noqa: BLE001 - any refusal is the point
        return f"refused {type(refusal).__name__}"
    first = data.split(b"\n")[0].replace(b"\0", b" ")[:60].decode("utf-8", "replace")
    return f"read {len(data.splitlines())} lines, first {first!r}"


for _path in (
    "/proc/net/tcp",
    "/proc/self/net/tcp",
    "/proc/self/net/unix",
    "/proc/self/mounts",
    "/proc/self/mountinfo",
    "/proc/1/cmdline",
    "/proc/1/environ",
    "__REFERENCE__",
):
    print(f"{_path}: {_read(_path)}")
try:
    print(f"listed /proc: {len([name for name in os.listdir('/proc') if name.isdigit()])} processes")
except Exception as _refusal:  # noqa: BLE001
    print(f"listed /proc: refused {type(_refusal).__name__}")
