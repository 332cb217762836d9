"""Reaches for what the kernel keeps outside a worker's memory and folder, and for what classmates share.

Attack: 128 memfds held 2 GiB outside the address-space limit; socket buffers held kernel memory; the
open-file limit could be raised to the hard limit first; pseudo-terminals come from the machine's
pool; fallocate reserves disk past the file-size limit in a file of size 0, the grader's output file
included; and a lock, an extended attribute, a mode or a time set on a file every worker is shown
passes messages between classmates graded at once. It tries each at import and prints what happened.
The functions are the reference.

A sound grader: every one refused, and full marks for the functions.
"""
import ctypes
import fcntl
import os
import resource
import socket
import sys

import math


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



def _try(name, act):
    try:
        act()
        print(f"{name}: allowed")
    except Exception as refusal:  # noqa: BLE001 - any refusal is the point
        print(f"{name}: refused {type(refusal).__name__}")


_shared = sys.executable
_try("memfd", lambda: os.memfd_create("hold"))
_try("socketpair", lambda: socket.socketpair())
_try("socket", lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM))
_try("raise open files", lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (1 << 20, 1 << 20)))
_try("raise memory", lambda: resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY)))
_try("pty", lambda: os.openpty())
_try("fallocate folder", lambda: os.posix_fallocate(os.open("held", os.O_CREAT | os.O_WRONLY), 0, 1 << 31))
_try("fallocate output", lambda: os.posix_fallocate(1, 0, 1 << 31))
_try("flock shared", lambda: fcntl.flock(os.open(_shared, os.O_RDONLY), fcntl.LOCK_EX | fcntl.LOCK_NB))
_try("lockf shared", lambda: fcntl.lockf(os.open(_shared, os.O_RDONLY), fcntl.LOCK_SH | fcntl.LOCK_NB))
_try("xattr shared", lambda: os.setxattr(_shared, "user.note", b"hello"))
_try("utime shared", lambda: os.utime(_shared))
_try("chmod shared", lambda: os.chmod(_shared, 0o755))
_try("inotify", lambda: (ctypes.CDLL(None, use_errno=True).inotify_init() >= 0) or (_ for _ in ()).throw(OSError()))
