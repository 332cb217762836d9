"""The seccomp filter (gradekit/sandbox/syscalls.py), installed in a child process that then makes the
calls itself, through the C library's `syscall`, so that every bit of every argument is its own: an
fcntl command outside the allow-list is refused whatever its upper 32 bits hold (the kernel reads
only the lower ones), those inside it work, and no file is opened with O_TMPFILE.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gradekit.sandbox import syscalls

if not sys.platform.startswith("linux"):
    pytest.skip("seccomp is Linux's", allow_module_level=True)

# The calls' numbers, for the machines the filter is built for (libseccomp's native architecture).
NUMBERS = {
    "x86_64": {"fcntl": 72, "open": 2, "openat": 257, "openat2": 437},
    "aarch64": {"fcntl": 25, "openat": 56, "openat2": 437},
}[os.uname().machine]
F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL = 0, 1, 2, 3, 4
F_DUPFD_CLOEXEC, F_GETPIPE_SZ = 1030, 1032
# Every other command the kernel knows: locks (POSIX and open file description), owners and signals,
# leases, directory notification, pipe sizes, seals, read-write hints.
REFUSED = {
    "F_GETLK": 5,
    "F_SETLK": 6,
    "F_SETLKW": 7,
    "F_SETOWN": 8,
    "F_GETOWN": 9,
    "F_SETSIG": 10,
    "F_GETSIG": 11,
    "F_SETOWN_EX": 15,
    "F_GETOWN_EX": 16,
    "F_GETOWNER_UIDS": 17,
    "F_OFD_GETLK": 36,
    "F_OFD_SETLK": 37,
    "F_OFD_SETLKW": 38,
    "F_SETLEASE": 1024,
    "F_GETLEASE": 1025,
    "F_NOTIFY": 1026,
    "F_DUPFD_QUERY": 1027,
    "F_CREATED_QUERY": 1028,
    "F_CANCELLK": 1029,
    "F_SETPIPE_SZ": 1031,
    "F_ADD_SEALS": 1033,
    "F_GET_SEALS": 1034,
    "F_GET_RW_HINT": 1035,
    "F_SET_RW_HINT": 1036,
    "no such command": 0x7FFFFFFF,
    "-1 as an int": 0xFFFFFFFF,
}
HIGH_BITS = (0, 1 << 32, 1 << 63, 0xFFFFFFFF << 32)

CHILD = """
import ctypes, errno, json, os, sys, tempfile
from gradekit.sandbox import worker

numbers, folder, refused = json.loads(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
if worker._libc().prctl(worker.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
    raise OSError("no_new_privs")
worker.install_filter(sys.stdin.buffer.read())
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

def call(name, *args):
    done = libc.syscall(ctypes.c_long(numbers[name]), *[ctypes.c_ulong(arg) for arg in args])
    return done if done >= 0 else -ctypes.get_errno()

read, write = os.pipe()
lock = ctypes.create_string_buffer(64)  # room for a struct flock, which F_GETLK and F_SETLK read
found = {"refused": {}, "allowed": {}}
for name, command in refused.items():
    for high in HIGH_BITS:
        argument = ctypes.addressof(lock) if "LK" in name else os.getpid()
        found["refused"][f"{name} | {high:#x}"] = call("fcntl", read, command | high, argument)
for name, command, argument in ALLOWED:
    for high in (0, 1 << 32):
        found["allowed"][f"{name} | {high:#x}"] = call("fcntl", write, command | high, argument)
tmpfile = os.O_TMPFILE | os.O_RDWR
path = ctypes.create_string_buffer(folder.encode())
found["openat O_TMPFILE"] = call("openat", (1 << 64) - 100, ctypes.addressof(path), tmpfile, 0o600)
if "open" in numbers:
    found["open O_TMPFILE"] = call("open", ctypes.addressof(path), tmpfile, 0o600)
found["openat2"] = call("openat2", (1 << 64) - 100, ctypes.addressof(path), 0, 0)
with tempfile.TemporaryFile(dir=folder) as handle:  # Python's own, which falls back to a named file
    handle.write(b"kept")
    handle.seek(0)
    found["TemporaryFile"] = handle.read().decode()
found["openat plain"] = call("openat", (1 << 64) - 100, ctypes.addressof(path), os.O_RDONLY | os.O_DIRECTORY, 0)
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def under_the_filter(tmp_path_factory) -> dict:
    """What each call returned in a child process under the filter: its result, or minus its errno."""
    folder = tmp_path_factory.mktemp("filtered")
    allowed = [
        ("F_DUPFD", F_DUPFD, 0),
        ("F_GETFD", F_GETFD, 0),
        ("F_SETFD", F_SETFD, 1),
        ("F_GETFL", F_GETFL, 0),
        ("F_SETFL", F_SETFL, os.O_NONBLOCK),
        ("F_DUPFD_CLOEXEC", F_DUPFD_CLOEXEC, 0),
        ("F_GETPIPE_SZ", F_GETPIPE_SZ, 0),
    ]
    source = f"HIGH_BITS = {HIGH_BITS!r}\nALLOWED = {allowed!r}\n{CHILD}"
    done = subprocess.run(
        [sys.executable, "-c", source, json.dumps(NUMBERS), str(folder), json.dumps(REFUSED)],
        input=syscalls.program(),
        capture_output=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr.decode()
    return {**json.loads(done.stdout), "folder": folder}


def test_every_fcntl_command_outside_the_allow_list_is_refused_whatever_its_upper_bits(under_the_filter):
    """Locks, leases, notification, owners and signals: EPERM, and a command with bits set above the 32
    the kernel reads is refused as the command its lower bits name."""
    found = under_the_filter["refused"]
    assert len(found) == len(REFUSED) * len(HIGH_BITS)
    assert {call: result for call, result in found.items() if result != -errno.EPERM} == {}


def test_the_fcntl_commands_honest_code_uses_work(under_the_filter):
    found = under_the_filter["allowed"]
    assert len(found) == 14
    assert {call: result for call, result in found.items() if result < 0} == {}
    assert found["F_GETPIPE_SZ | 0x0"] > 0


def test_no_file_is_opened_with_o_tmpfile_and_pythons_tempfile_falls_back(under_the_filter):
    """O_TMPFILE is refused as a file system without it refuses it, by every call that takes it;
    openat2, whose flags a filter cannot read, as a kernel without it does; tempfile makes a file with
    a name instead, and nothing else that opens is touched."""
    assert under_the_filter["openat O_TMPFILE"] == -errno.EOPNOTSUPP
    assert under_the_filter.get("open O_TMPFILE", -errno.EOPNOTSUPP) == -errno.EOPNOTSUPP
    assert under_the_filter["openat2"] == -errno.ENOSYS
    assert under_the_filter["TemporaryFile"] == "kept"
    assert under_the_filter["openat plain"] >= 0


@pytest.mark.parametrize("allowed", [syscalls.FCNTL_ALLOWED, (0,), (5, 9, 1 << 31), ()])
def test_the_blocks_outside_an_allow_list_cover_every_other_number_once(allowed):
    """Checked on every number up to 2,100 and on each block's edges: each number outside `allowed`
    lies in exactly one block, and no allowed one in any."""
    blocks = syscalls.outside(allowed, 32)
    edges = {value + offset for mask, value in blocks for offset in (0, ((1 << 32) - 1 & ~mask))}
    for number in sorted(set(range(2100)) | edges | {(1 << 32) - 1}):
        holding = [block for block in blocks if number & block[0] == block[1]]
        assert len(holding) == (0 if number in allowed else 1), (number, holding)
