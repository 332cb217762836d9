"""The grader's side of Landlock (gradekit/sandbox/landlock.py): the ABI workers use, as the kernel
offers it or capped by GRADEKIT_LANDLOCK_ABI, and what the rules leave open under /proc."""

from __future__ import annotations

import pytest

from gradekit.errors import UsageError
from gradekit.sandbox import isolation, landlock


def test_the_cap_lowers_the_abi_workers_use_and_never_raises_it(monkeypatch):
    monkeypatch.delenv(landlock.CAP_VARIABLE, raising=False)
    assert landlock.cap() is None and landlock.abi() == landlock.kernel_abi() >= 6
    monkeypatch.setenv(landlock.CAP_VARIABLE, "5")
    assert landlock.cap() == 5 and landlock.abi() == 5
    monkeypatch.setenv(landlock.CAP_VARIABLE, "99")
    assert landlock.abi() == landlock.kernel_abi()


@pytest.mark.parametrize("text", ["five", "-1", "5.0"])
def test_a_cap_that_is_no_version_is_a_usage_error(monkeypatch, text):
    monkeypatch.setenv(landlock.CAP_VARIABLE, text)
    with pytest.raises(UsageError, match=f"GRADEKIT_LANDLOCK_ABI={text!r}: give a Landlock ABI version"):
        landlock.abi()


def test_the_rules_carry_the_abi_and_leave_only_the_cpus_description_open_under_proc(monkeypatch, tmp_path):
    monkeypatch.setenv(landlock.CAP_VARIABLE, "4")
    rules = landlock.rules(list(isolation.runtime()), [], str(tmp_path))
    assert rules["abi"] == 4
    assert [path for path in rules["read"] + rules["write"] if path.startswith("/proc")] == ["/proc/cpuinfo"]
