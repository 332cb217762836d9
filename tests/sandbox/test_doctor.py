"""`gradekit doctor`: the wall this host grades behind, why a stronger one is not used, and the remedy
for each gap. The command is run on this host (bubblewrap and Landlock work here, as root) and with a
bwrap that fails as Ubuntu 24.04's does; the checks behind it are fed fake /proc and /sys trees."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from gradekit.sandbox import host
from gradekit.sandbox.isolation import Isolation

NAMES = ["isolation", "bubblewrap", "landlock", "seccomp", "cpu clock", "swap", "blas threads"]


def doctor(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gradekit", "doctor", *args], capture_output=True, text=True, env=env, timeout=120
    )


def tree(root: Path, files: dict[str, str]) -> str:
    """A fake root holding `files` (paths relative to it), for the checks to read instead of /."""
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return str(root)


def test_this_host_grades_behind_bubblewrap_and_says_so_in_one_line_per_check():
    done = doctor()
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:2] == ["ok", "isolation"] and "behind bubblewrap" in lines[0]
    assert [line.split()[1] for line in lines if line.startswith("ok")][:3] == ["isolation", "bubblewrap", "landlock"]
    assert all(any(line[9:].startswith(name) for line in lines) for name in NAMES)


def test_where_bwrap_is_denied_its_namespaces_landlock_is_used_and_the_json_says_why(tmp_path):
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "bwrap").write_text("#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n")
    (shim / "bwrap").chmod(0o755)
    done = doctor("--format", "json", env={**os.environ, "PATH": f"{shim}{os.pathsep}{os.environ['PATH']}"})
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["isolation"] == "landlock"
    checks = {check["name"]: check for check in found["checks"]}
    assert [check["name"] for check in found["checks"]] == NAMES
    assert all(set(check) == {"name", "status", "found", "remedy"} for check in found["checks"])
    assert checks["isolation"]["status"] == "ok" and "behind landlock" in checks["isolation"]["found"]
    bubblewrap = checks["bubblewrap"]
    assert bubblewrap["status"] == "missing"
    assert "bwrap: setting up uid map: Permission denied" in bubblewrap["found"]
    assert bubblewrap["remedy"]


def test_run_as_a_user_that_does_not_exist_is_a_usage_error_in_one_sentence():
    done = doctor("--run-as", "no-such-user-here")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == "gradekit: --run-as 'no-such-user-here': there is no such user on this machine\n"


def test_apparmors_restriction_is_named_with_a_profile_for_bwrap_and_the_sysctl(tmp_path):
    root = tree(tmp_path, {"proc/sys/kernel/apparmor_restrict_unprivileged_userns": "1\n"})
    [check] = host.denials(root)
    assert check.status == host.MISSING
    assert "AppArmor" in check.found and "kernel.apparmor_restrict_unprivileged_userns = 1" in check.found
    assert check.remedy is not None
    for line in ("abi <abi/4.0>,", "include <tunables/global>", "flags=(unconfined) {", "userns,"):
        assert line in check.remedy
    assert "apparmor_parser -r /etc/apparmor.d/bwrap" in check.remedy
    assert "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0" in check.remedy


@pytest.mark.parametrize(
    ("setting", "value", "remedy"),
    [
        ("user/max_user_namespaces", "0", "sysctl -w user.max_user_namespaces=15000"),
        ("kernel/unprivileged_userns_clone", "0", "sysctl -w kernel.unprivileged_userns_clone=1"),
    ],
)
def test_a_kernel_setting_that_denies_user_namespaces_is_named_with_the_sysctl(tmp_path, setting, value, remedy):
    root = tree(tmp_path, {f"proc/sys/{setting}": f"{value}\n"})
    [check] = host.denials(root)
    assert setting.replace("/", ".") in check.found and check.remedy is not None and remedy in check.remedy


@pytest.mark.parametrize(
    ("marker", "text", "named"),
    [
        (".dockerenv", "", "Docker: /.dockerenv"),
        ("run/.containerenv", "", "Podman: /run/.containerenv"),
        ("proc/1/cgroup", "0::/kubepods/besteffort/pod1/abc\n", "Kubernetes: /proc/1/cgroup"),
    ],
)
def test_a_container_is_named_by_its_marker_with_a_seccomp_profile_or_landlock(tmp_path, marker, text, named):
    [check] = host.denials(tree(tmp_path, {marker: text}))
    assert named in check.found and "seccomp profile" in check.found
    assert check.remedy is not None and "unshare" in check.remedy and "Landlock" in check.remedy


def test_a_host_that_allows_user_namespaces_has_no_denial(tmp_path):
    root = tree(
        tmp_path,
        {
            "proc/sys/kernel/apparmor_restrict_unprivileged_userns": "0\n",
            "proc/sys/user/max_user_namespaces": "15000\n",
            "proc/sys/kernel/unprivileged_userns_clone": "1\n",
            "proc/1/cgroup": "0::/init.scope\n",
        },
    )
    assert host.denials(root) == []


def test_bubblewrap_that_fails_names_what_denies_it_and_that_ones_remedy(tmp_path):
    causes = host.denials(tree(tmp_path, {"proc/sys/user/max_user_namespaces": "0\n", ".dockerenv": ""}))
    failure = "bwrap: setting up uid map: Permission denied"
    check = host.bubblewrap_wall(failure, "/usr/bin/bwrap", causes)
    assert check.status == host.MISSING
    assert failure in check.found and all(cause.found in check.found for cause in causes)
    assert check.remedy == causes[0].remedy
    assert host.bubblewrap_wall(failure, "/usr/bin/bwrap").remedy == host.NAMESPACES_REMEDY


def test_bubblewrap_not_installed_is_given_the_install_command():
    check = host.bubblewrap_wall("bubblewrap is not installed", None)
    assert check.status == host.MISSING and check.remedy is not None
    assert "apt-get install bubblewrap" in check.remedy and "dnf install bubblewrap" in check.remedy


def test_landlock_missing_names_a_kernel_too_old_or_left_out_of_the_security_modules(tmp_path):
    old = host.landlock_wall(0, "no Landlock", root=tree(tmp_path / "old", {"proc/sys/kernel/osrelease": "5.4.0-42\n"}))
    assert old.status == host.MISSING and "5.13" in old.found and old.remedy and "5.13" in old.remedy
    modules = "lockdown,capability,yama,apparmor"
    root = tree(tmp_path / "lsm", {"proc/sys/kernel/osrelease": "6.8.0-45\n", "sys/kernel/security/lsm": modules})
    left_out = host.landlock_wall(0, "no Landlock", root=root)
    assert modules in left_out.found and left_out.remedy and f"lsm=landlock,{modules}" in left_out.remedy


def test_landlock_says_what_its_abi_limits_and_what_a_newer_kernel_adds():
    full = host.landlock_wall(7, None)
    assert full.status == host.OK and "ABI 7" in full.found
    assert all(what in full.found for _, _, what in host.LANDLOCK_ABIS)
    older = host.landlock_wall(3, None)
    assert older.status == host.WARNING and "file access" in older.found
    assert older.remedy is not None and "TCP ports" in older.remedy and "6.12" in older.remedy
    failed = host.landlock_wall(7, "it ended", [host.seccomp_filter("no seccomp filter could be built")])
    assert failed.status == host.MISSING and "it ended" in failed.found
    assert failed.remedy == host.INSTALL_SECCOMP


def test_landlock_without_scopes_says_the_filter_alone_keeps_signals_home():
    """ABI 5 (Linux 6.7 to 6.11): no signal or abstract-socket scopes, which the line says, with what
    stands in for them and the kernel that adds them."""
    older = host.landlock_wall(5, None)
    assert older.status == host.WARNING and older.found.startswith("ABI 5, and a worker started behind it")
    assert "not the reach of signals and abstract UNIX sockets" in older.found and host.WITHOUT_SCOPES in older.found
    assert older.remedy is not None and "6.12" in older.remedy


def test_a_capped_abi_is_named_with_the_kernels_and_its_remedy_is_to_unset_it():
    capped = host.landlock_wall(7, None, cap=5)
    assert capped.status == host.WARNING
    assert capped.found.startswith("ABI 7, of which workers use 5 (GRADEKIT_LANDLOCK_ABI=5)")
    assert host.WITHOUT_SCOPES in capped.found
    assert capped.remedy is not None and capped.remedy.startswith("unset GRADEKIT_LANDLOCK_ABI")
    off = host.landlock_wall(7, None, cap=0)
    assert off.status == host.MISSING and "no Landlock at all" in off.found
    assert host.landlock_wall(7, None, cap=9) == host.landlock_wall(7, None)


def test_doctor_run_with_the_abi_capped_says_so_and_a_cap_that_is_no_version_is_a_usage_error():
    capped = doctor("--format", "json", env={**os.environ, "GRADEKIT_LANDLOCK_ABI": "5"})
    assert capped.returncode == 0, capped.stderr
    landlock = {check["name"]: check for check in json.loads(capped.stdout)["checks"]}["landlock"]
    assert landlock["status"] == "warning" and "of which workers use 5" in landlock["found"], landlock
    wrong = doctor(env={**os.environ, "GRADEKIT_LANDLOCK_ABI": "six"})
    assert wrong.returncode == 2 and wrong.stdout == ""
    assert wrong.stderr == (
        "gradekit: GRADEKIT_LANDLOCK_ABI='six': give a Landlock ABI version (0 or more), or leave it unset\n"
    )


def test_a_seccomp_filter_that_cannot_be_built_is_given_libseccomp_and_its_binding():
    assert host.seccomp_filter(None).status == host.OK
    missing = host.seccomp_filter("no seccomp filter could be built (ImportError: no module named seccomp)")
    assert missing.status == host.MISSING and missing.remedy is not None
    assert "apt-get install libseccomp2" in missing.remedy and "pip install pyseccomp" in missing.remedy


def test_a_grade_behind_the_guard_alone_or_no_worker_at_all_is_no_sandbox():
    failures: dict[Isolation, str | None] = {Isolation.BUBBLEWRAP: "denied", Isolation.LANDLOCK: "denied"}
    guard = host.wall_used(host.Walls(Isolation.GUARD, failures))
    assert guard.status == host.WARNING and "no security boundary" in guard.found and guard.remedy
    cause = host.Check("interpreter", host.MISSING, "nobody cannot read python", "install Python")
    nothing = host.wall_used(host.Walls(None, failures, "Permission denied"), "nobody", [cause])
    assert nothing.status == host.MISSING and "Permission denied" in nothing.found
    assert nothing.remedy == "install Python"


def test_the_cpu_clock_needs_stat_and_schedstat(tmp_path):
    both = tree(tmp_path / "both", {"proc/self/stat": "1 (x) R", "proc/self/schedstat": "1 2 3"})
    assert host.cpu_clock(both).status == host.OK
    stat_only = host.cpu_clock(tree(tmp_path / "stat", {"proc/self/stat": "1 (x) R"}))
    assert stat_only.status == host.WARNING and "schedstat" in stat_only.found and stat_only.remedy
    neither = host.cpu_clock(str(tmp_path / "none"))
    assert neither.status == host.MISSING and "wall-clock" in neither.found and neither.remedy


def test_swap_is_information_not_a_failure(tmp_path):
    swapped = host.swap(tree(tmp_path / "on", {"proc/meminfo": "MemTotal: 8 kB\nSwapTotal:  2097152 kB\n"}))
    assert swapped.status == host.OK and "2.0 GiB of swap" in swapped.found and "address space" in swapped.found
    assert "no swap" in host.swap(tree(tmp_path / "off", {"proc/meminfo": "SwapTotal:  0 kB\n"})).found


def test_blas_threads_are_one_each_unless_the_user_set_a_count():
    assert host.blas_threads({}).status == host.OK
    chosen = host.blas_threads({"OMP_NUM_THREADS": "8"})
    assert chosen.status == host.WARNING and "OMP_NUM_THREADS=8" in chosen.found
    assert chosen.remedy is not None and "unset OMP_NUM_THREADS" in chosen.remedy


def test_a_user_who_cannot_reach_the_interpreter_is_told_which_folder_stops_them(tmp_path):
    closed = tmp_path / "home" / "python3"
    closed.parent.mkdir(mode=0o700)
    closed.write_text("")
    check = host.interpreter_access("nobody", [str(closed)])
    assert check.status == host.MISSING and f"nobody cannot read {closed}" in check.found
    assert check.remedy is not None and "setfacl -m u:nobody:x " in check.remedy
    stop = check.remedy.split()[-1].strip("`")
    assert str(closed).startswith(stop + os.sep) and not os.stat(stop).st_mode & 0o001
    assert host.interpreter_access("nobody", ["/usr/bin/env"]).status == host.OK


@pytest.fixture
def open_folder():
    """A folder every user may pass through (pytest's own is its owner's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="gradekit-doctor-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


def test_a_link_to_an_interpreter_names_the_closed_folder_on_the_link_s_way_not_the_link(open_folder):
    """A venv's python3 is a link into a home folder of mode 700: that folder is what stops the user."""
    home = open_folder / "home"
    home.mkdir(mode=0o700)
    (home / "python3.11").write_text("")
    venv = open_folder / "venv"
    venv.mkdir(mode=0o755)
    (venv / "python3").symlink_to(home / "python3.11")
    check = host.interpreter_access("nobody", [str(venv / "python3")])
    closed = f"{home} (mode 700) is closed to them"
    assert check.found == f"nobody cannot read {venv / 'python3'} (a link to {home / 'python3.11'}): {closed}"
    assert check.remedy is not None and check.remedy.endswith(f"`setfacl -m u:nobody:x {home}`")


def test_a_bubblewrap_that_cannot_bind_a_closed_path_is_not_blamed_on_a_container(tmp_path, monkeypatch):
    root = tree(tmp_path, {".dockerenv": ""})
    closed = host.Walls(None, {Isolation.BUBBLEWRAP: "bwrap: Can't find source path /root/x: Permission denied"})
    denied = host.Walls(None, {Isolation.BUBBLEWRAP: "bwrap: Creating new namespace failed: Operation not permitted"})
    assert host._refusing(closed, root) == []
    assert [check.found.split(" (")[0] for check in host._refusing(denied, root)] == ["this is a container"]
