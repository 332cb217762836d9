"""What this host offers the sandbox, looked at as a careful course admin would before grading on it.

Each check is a small function that returns a `Check`: its name, how it stands (ok, warning,
missing), what it found and, for a gap, the one sentence that closes it. Files are read under a root
folder given as a parameter, "/" by default, so that a test can point a check at a fake tree.
Nothing here changes the host. Whether a wall works is learnt only by starting a worker behind it
(`tried`), as a grade does: what a kernel, a security module or a container allows shows for certain
only then, and the files under /proc/sys say why a wall failed, not whether it works.
`gradekit doctor` (commands/doctor.py) runs every check (`checks`) and prints them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from gradekit.assignment import available
from gradekit.config import BLAS_THREADS, Limits
from gradekit.errors import GradekitError
from gradekit.sandbox import isolation, landlock, packages, process
from gradekit.sandbox.isolation import Isolation

OK, WARNING, MISSING = "ok", "warning", "missing"
SANDBOXES = (Isolation.BUBBLEWRAP, Isolation.LANDLOCK)
# What each Landlock ABI a worker uses adds to it: (ABI, the first Linux with it, what it limits).
LANDLOCK_ABIS = (
    (1, "5.13", "file access"),
    (4, "6.7", "TCP ports"),
    (6, "6.12", "the reach of signals and abstract UNIX sockets"),
)
SCOPES_ABI = 6
WITHOUT_SCOPES = (
    "without its scopes a worker's signals are kept home by the seccomp filter alone, which lets it signal "
    "its own process group only (unless it runs as a uid of its own), and abstract UNIX sockets by the "
    "filter's refusal of every socket"
)
# Words /proc/1/cgroup holds inside a container, and the container each names.
# What bubblewrap says when it is refused a namespace ("Creating new namespace failed", "setting up uid
# map: Permission denied", "No permissions to creating new namespace"), not when a path is closed to it.
NAMESPACE_WORDS = ("namespace", "uid map")
CGROUP_MARKERS = {"docker": "Docker", "libpod": "Podman", "kubepods": "Kubernetes", "containerd": "containerd"}
ON_LINUX = "grade on a Linux machine, where bubblewrap, Landlock and seccomp are"
INSTALL_BUBBLEWRAP = "install it: `apt-get install bubblewrap` (Debian, Ubuntu) or `dnf install bubblewrap` (Fedora)"
NAMESPACES_REMEDY = (
    "allow bwrap to make user namespaces wherever they are denied (an AppArmor or SELinux policy, a "
    "container's seccomp profile), or grade behind Landlock, which needs none"
)
INSTALL_SECCOMP = (
    "install libseccomp and its binding: `apt-get install libseccomp2` (or `dnf install libseccomp`), "
    "then `pip install pyseccomp`"
)


@dataclass(frozen=True)
class Check:
    """One thing looked at: its name, how it stands (OK, WARNING or MISSING), what was found and, for
    a gap, the one sentence that closes it."""

    name: str
    status: str
    found: str
    remedy: str | None = None


@dataclass(frozen=True)
class Walls:
    """What starting workers showed: the wall a grade would put them behind (None where none starts at
    all, and `error` says why), and why bubblewrap and Landlock could not confine one (None: it did)."""

    used: Isolation | None
    failures: dict[Isolation, str | None]
    error: str | None = None


def checks(
    run_as: str | None, assignment_dirs: list[str] | None = None, root: str = "/"
) -> tuple[Isolation | None, list[Check]]:
    """The wall a grade would use, and every check in the order `gradekit doctor` prints them. Workers
    are started as `run_as` (None: the grader's own user), barred from `assignment_dirs` as a grade
    bars them."""
    walls = tried(run_as, assignment_dirs)
    shared = [seccomp_filter(isolation.filter_missing())]
    if run_as:
        shared.append(interpreter_access(run_as))
    gaps = [check for check in shared if check.status == MISSING]  # what stops a worker behind any wall
    return walls.used, [
        wall_used(walls, run_as, gaps),
        bubblewrap_wall(walls.failures[Isolation.BUBBLEWRAP], shutil.which("bwrap"), [*gaps, *_refusing(walls, root)]),
        landlock_wall(landlock.kernel_abi(), walls.failures[Isolation.LANDLOCK], gaps, root, landlock.cap()),
        *shared,
        cpu_clock(root),
        swap(root),
        blas_threads(os.environ),
        *declared_packages(assignment_dirs),
    ]


def tried(run_as: str | None, assignment_dirs: list[str] | None = None) -> Walls:
    """Start a worker as `run_as` behind bubblewrap, behind Landlock, and as a grade asks ("auto"),
    and say what each showed (process.probe: each is one real worker, confined then stopped)."""
    limits = Limits(run_as=run_as)
    failures = {wall: _failure(replace(limits, isolation=wall.value), assignment_dirs) for wall in SANDBOXES}
    try:
        return Walls(process.probe(limits, assignment_dirs), failures)
    except GradekitError as error:
        return Walls(None, failures, str(error))


def _failure(limits: Limits, assignment_dirs: list[str] | None) -> str | None:
    """Why no worker confined itself behind the one wall `limits` asks for; None where one did. The
    host's own words where a worker ended first (the last line bubblewrap or the worker wrote)."""
    try:
        process.probe(limits, assignment_dirs)
    except GradekitError as error:
        return isolation.why_not(Isolation(limits.isolation), limits.run_as) or str(error)
    return None


def wall_used(walls: Walls, run_as: str | None = None, causes: Sequence[Check] = ()) -> Check:
    """Which wall a grade would put student code behind, and which walls started a worker here."""
    who = f", as {run_as}" if run_as else ""
    if walls.used is None:
        remedy = causes[0].remedy if causes else None
        return Check("isolation", MISSING, f"no worker could start here{who}: {walls.error}", remedy)
    if walls.used is Isolation.GUARD:
        found = (
            f"student code would run behind the Python guard alone{who}, which is no security boundary: "
            "`gradekit check` grades behind it and says so, `gradekit grade` refuses to"
        )
        return Check("isolation", WARNING, found, "make bubblewrap or Landlock start a worker, as their lines say")
    working = ", ".join(wall.value for wall in SANDBOXES if walls.failures[wall] is None)
    found = f"student code would run behind {walls.used.value}{who} (walls that started a worker here: {working})"
    kind = isolation.who(walls.used, run_as, process.worker_program())
    found += f"; each worker runs as {kind.value}, its threads held by {isolation.threads_bound(walls.used, kind)}"
    return Check("isolation", OK, found)


def _refusing(walls: Walls, root: str) -> list[Check]:
    """What denies user namespaces here, where bubblewrap failed for want of one: a failure of another
    kind (a path it could not bind, a Python the user cannot read) is not blamed on them."""
    failure = walls.failures[Isolation.BUBBLEWRAP] or ""
    return denials(root) if any(word in failure for word in NAMESPACE_WORDS) else []


def bubblewrap_wall(failure: str | None, path: str | None, causes: Sequence[Check] = ()) -> Check:
    """Whether bubblewrap confined a worker (`failure` None) and, where not, why and by what: `causes`
    are the gaps found that stop it, the one to close first first."""
    if failure is None:
        return Check("bubblewrap", OK, f"a worker started behind it ({path})")
    if not sys.platform.startswith("linux"):
        return Check("bubblewrap", MISSING, failure, ON_LINUX)
    if path is None:
        return Check("bubblewrap", MISSING, failure + _because(failure, causes), INSTALL_BUBBLEWRAP)
    found = f"{path} could not start a worker ({failure}){_because(failure, causes)}"
    return Check("bubblewrap", MISSING, found, causes[0].remedy if causes else NAMESPACES_REMEDY)


def _because(failure: str, causes: Sequence[Check]) -> str:
    """What each cause found, after a wall's `failure`, leaving out a cause that is the failure itself
    (a seccomp filter that cannot be built is why_not's answer for every wall)."""
    return "".join(f"; {cause.found}" for cause in causes if cause.found != failure)


def denials(root: str = "/") -> list[Check]:
    """Everything found that denies an unprivileged user the user namespaces bubblewrap needs, the
    most specific first."""
    found = (apparmor_restriction(root), namespace_limit(root), userns_clone(root), container(root))
    return [check for check in found if check is not None]


def apparmor_restriction(root: str = "/") -> Check | None:
    """AppArmor's restriction of unprivileged user namespaces (Ubuntu 23.10 and later set it), under
    which bwrap fails with "setting up uid map: Permission denied" unless a profile allows it."""
    setting = "kernel.apparmor_restrict_unprivileged_userns"
    if _sysctl(root, setting) != "1":
        return None
    bwrap = shutil.which("bwrap") or "/usr/bin/bwrap"
    profile = (
        f"abi <abi/4.0>,\\ninclude <tunables/global>\\nprofile bwrap {bwrap} flags=(unconfined) {{\\n  userns,\\n}}\\n"
    )
    remedy = (
        f"give bwrap an AppArmor profile that allows them: `printf '{profile}' > /etc/apparmor.d/bwrap && "
        f"apparmor_parser -r /etc/apparmor.d/bwrap`, or allow them to every program: `sysctl -w {setting}=0`"
    )
    return Check("user namespaces", MISSING, f"AppArmor denies unprivileged user namespaces ({setting} = 1)", remedy)


def namespace_limit(root: str = "/") -> Check | None:
    """The kernel's cap on user namespaces set to none at all."""
    setting = "user.max_user_namespaces"
    if _sysctl(root, setting) != "0":
        return None
    remedy = f"allow them: `sysctl -w {setting}=15000`, and the same setting in /etc/sysctl.d/ to keep it"
    return Check("user namespaces", MISSING, f"the kernel allows no user namespace ({setting} = 0)", remedy)


def userns_clone(root: str = "/") -> Check | None:
    """Debian's own switch (older Debian kernels) that keeps user namespaces from unprivileged users."""
    setting = "kernel.unprivileged_userns_clone"
    if _sysctl(root, setting) != "0":
        return None
    remedy = f"allow them: `sysctl -w {setting}=1`, and the same setting in /etc/sysctl.d/ to keep it"
    found = f"the kernel denies unprivileged user namespaces ({setting} = 0)"
    return Check("user namespaces", MISSING, found, remedy)


def container(root: str = "/") -> Check | None:
    """A container, whose runtime's default seccomp profile (Docker's, Podman's) refuses the calls that
    make namespaces to a process without CAP_SYS_ADMIN."""
    marker = _container_marker(root)
    if marker is None:
        return None
    found = (
        f"this is a container ({marker}), whose runtime's default seccomp profile refuses the calls that make "
        "namespaces unless the container was started with another"
    )
    remedy = (
        "run the container with a seccomp profile that allows `unshare` and `clone` with namespace flags "
        "(`docker run --security-opt seccomp=PROFILE.json`), or grade behind Landlock, which needs no namespace"
    )
    return Check("user namespaces", MISSING, found, remedy)


def _container_marker(root: str) -> str | None:
    """What shows this is a container: the file its runtime leaves, or a word in init's cgroup."""
    for path, runtime in ((".dockerenv", "Docker"), ("run/.containerenv", "Podman")):
        if Path(root, path).exists():
            return f"{runtime}: /{path}"
    groups = _read(root, "proc/1/cgroup") or ""
    return next((f"{name}: /proc/1/cgroup" for word, name in CGROUP_MARKERS.items() if word in groups), None)


def landlock_wall(
    abi: int, failure: str | None, causes: Sequence[Check] = (), root: str = "/", cap: int | None = None
) -> Check:
    """The kernel's Landlock ABI (`abi`), the one workers use (no more than `cap`, where
    GRADEKIT_LANDLOCK_ABI sets one), and what that limits, scopes or not; whether a worker started
    behind it (`failure` None) and, where not, why (`causes`: the gaps found that stop every wall)."""
    if abi < 1:
        return _no_landlock(root)
    used = abi if cap is None else min(abi, cap)
    unset = f"unset {landlock.CAP_VARIABLE}, which caps the ABI to try an older kernel"
    offered = f"ABI {abi}" if used == abi else f"ABI {abi}, of which workers use {used} ({landlock.CAP_VARIABLE}={cap})"
    if used < 1:
        return Check("landlock", MISSING, f"{offered}: no Landlock at all", unset)
    if failure is not None:
        found = f"{offered}, but a worker could not start behind it ({failure}){_because(failure, causes)}"
        return Check("landlock", MISSING, found, causes[0].remedy if causes else None)
    limits = _listed([what for version, _, what in LANDLOCK_ABIS if used >= version])
    found = f"{offered}, and a worker started behind it: it limits {limits}"
    lacking = [(version, kernel, what) for version, kernel, what in LANDLOCK_ABIS if used < version]
    if not lacking:
        return Check("landlock", OK, found)
    found = f"{found}, not {_listed([what for _, _, what in lacking])}"
    if used < SCOPES_ABI:
        found = f"{found}: {WITHOUT_SCOPES}"
    if used < abi:
        return Check("landlock", WARNING, found, unset)
    version, kernel = lacking[-1][:2]
    remedy = (
        f"boot Linux {kernel} or later (Landlock ABI {version}), which limits {_listed([w for *_, w in lacking])} too"
    )
    return Check("landlock", WARNING, found, remedy)


def _no_landlock(root: str) -> Check:
    """Why the kernel offers no Landlock: too old, left out of its security modules, or unknown."""
    if not sys.platform.startswith("linux"):
        return Check("landlock", MISSING, f"there is no Landlock on {sys.platform} (it needs Linux)", ON_LINUX)
    release = _read(root, "proc/sys/kernel/osrelease") or ""
    version = re.match(r"(\d+)\.(\d+)", release)
    if version and (int(version[1]), int(version[2])) < (5, 13):
        found = f"Linux {release} has no Landlock, which came with 5.13"
        return Check("landlock", MISSING, found, "boot Linux 5.13 or later (6.12 or later for all a worker uses)")
    modules = _read(root, "sys/kernel/security/lsm")
    if modules is not None and "landlock" not in modules.split(","):
        found = f"Landlock is not among the kernel's running security modules ({modules})"
        remedy = (
            f"boot with `lsm=landlock,{modules}` on the kernel command line "
            "(GRUB_CMDLINE_LINUX in /etc/default/grub, then `update-grub` and a reboot)"
        )
        return Check("landlock", MISSING, found, remedy)
    found = (
        "this kernel offers no Landlock: built without it, left out of its security modules "
        "(/sys/kernel/security/lsm says which run, where it can be read), or its calls refused by a container"
    )
    remedy = "boot a kernel with Landlock (Linux 5.13 or later) and `lsm=landlock,...` on its command line"
    return Check("landlock", MISSING, found, remedy)


def seccomp_filter(missing: str | None) -> Check:
    """Whether the seccomp filter every worker runs under can be built (`missing` None: it can)."""
    if missing is None:
        return Check("seccomp", OK, "the filter every worker runs under builds (libseccomp)")
    return Check("seccomp", MISSING, missing, INSTALL_SECCOMP if sys.platform.startswith("linux") else ON_LINUX)


def interpreter_access(user: str, paths: Sequence[str] | None = None) -> Check:
    """Whether `user` can read what a worker run as them needs (`paths`, by default the interpreter,
    its standard library, its installed libraries and gradekit's worker script). A Python under a
    home folder of mode 700 (pyenv's, conda's) is the common reason not. The kernel is asked as
    `user` itself, so its answer counts ACLs too: the grader must be root."""
    wanted = list(dict.fromkeys(paths or _worker_files()))
    closed = next((path for path in wanted if not _allowed(user, "-r", path)), None)
    if closed is None:
        return Check("interpreter", OK, f"{user} can read {', '.join(wanted)}")
    real = os.path.realpath(closed)
    within = [str(folder) for path in (closed, real) for folder in reversed(Path(path).parents)]
    stop = next((folder for folder in within if not _allowed(user, "-x", folder)), real)
    mode = f" (mode {os.stat(stop).st_mode & 0o777:o})" if os.path.exists(stop) else ""
    link = f" (a link to {real})" if real != closed else ""
    found = f"{user} cannot read {closed}{link}: {stop}{mode} is closed to them"
    remedy = (
        f"install Python where every user can read it (under /usr or /opt), or let {user} through: "
        f"`setfacl -m u:{user}:{'rx' if stop in (closed, real) else 'x'} {stop}`"
    )
    return Check("interpreter", MISSING, found, remedy)


def _worker_files() -> list[str]:
    """What every worker reads, whatever wall it is behind."""
    paths = sysconfig.get_paths()
    return [sys.executable, paths["stdlib"], paths["purelib"], process.worker_program()]


def _allowed(user: str, test: str, path: str) -> bool:
    """Whether `test -r` (read) or `test -x` (search) passes on `path` for `user`, run as them."""
    account = isolation.run_as_ids(user)
    assert account is not None
    done = subprocess.run(["test", test, path], user=account[0], group=account[1], extra_groups=[], check=False)
    return done.returncode == 0


def cpu_clock(root: str = "/") -> Check:
    """Whether the clocks a call's time limit counts can be read: a worker's CPU time (/proc/PID/stat)
    and its wait for a CPU (/proc/PID/schedstat), which is left out so that a busy host grades as an
    idle one does."""
    stat, schedstat = (_read(root, f"proc/self/{name}") is not None for name in ("stat", "schedstat"))
    if stat and schedstat:
        found = "/proc/self/stat and /proc/self/schedstat can be read: a call's time leaves out its wait for a CPU"
        return Check("cpu clock", OK, found)
    if stat:
        found = (
            "/proc/self/schedstat cannot be read: a call's time includes its wait for a CPU, "
            "so a busy host may stop a call an idle one lets finish"
        )
        return Check(
            "cpu clock", WARNING, found, "boot a kernel built with CONFIG_SCHED_INFO, as distributions build theirs"
        )
    found = (
        "/proc/self/stat cannot be read: time limits count wall-clock time, "
        "so a busy host may stop a call an idle one lets finish"
    )
    return Check("cpu clock", MISSING, found, "mount /proc: `mount -t proc proc /proc`")


def swap(root: str = "/") -> Check:
    """The host's swap, as information: a worker's memory cap is on its address space, which swap does
    not change, but with swap its pages can be written out under pressure instead of refused."""
    meminfo = _read(root, "proc/meminfo") or ""
    total = re.search(r"^SwapTotal:\s+(\d+) kB", meminfo, re.MULTILINE)
    if total is None:
        return Check("swap", OK, "/proc/meminfo cannot be read, so how much swap there is is unknown")
    if total[1] == "0":
        return Check("swap", OK, "no swap: a worker's memory stays in RAM, within its address-space cap")
    found = (
        f"{int(total[1]) / 2**20:.1f} GiB of swap: a worker's cap is on its address space, so under memory "
        "pressure its pages may go to swap, slowly, instead of being refused"
    )
    return Check("swap", OK, found)


def blas_threads(environ: Mapping[str, str]) -> Check:
    """The BLAS thread counts the grader runs with: one each unless the user set a count, as
    gradekit.cli.one_blas_thread sets them (every worker gets one whatever is set)."""
    counts = {variable: environ.get(variable, "1") for variable in BLAS_THREADS}
    found = ", ".join(f"{variable}={count}" for variable, count in counts.items())
    chosen = [variable for variable, count in counts.items() if count != "1"]
    if not chosen:
        return Check("blas threads", OK, f"the grader uses one BLAS thread ({found}), as each worker does")
    remedy = (
        f"unset {' '.join(chosen)} before grading: the grader calls no BLAS routine, "
        "and a pool of BLAS threads takes CPU time the workers need"
    )
    return Check(
        "blas threads", WARNING, f"the grader uses {found}, as its environment sets; each worker uses one", remedy
    )


def declared_packages(assignment_dirs: list[str] | None) -> list[Check]:
    """One check per package an assignment on the search path declares (PACKAGES): whether the
    Python gradekit runs, which its workers run too, has it; none where no assignment declares one."""
    wanted: dict[str, list[str]] = {}
    for name, folder in available(assignment_dirs).items():
        for requirement in packages.declared(folder):
            wanted.setdefault(requirement, []).append(name)
    found = []
    for requirement, names in sorted(wanted.items()):
        version = packages.installed(requirement)
        by = ", ".join(names)
        if version is not None:
            found.append(Check("package", OK, f"{packages.name(requirement)} {version}, which {by} declares"))
            continue
        remedy = f"install it into the Python gradekit runs: `{sys.executable} -m pip install '{requirement}'`"
        found.append(Check("package", MISSING, f"{requirement}, which {by} declares, is not installed", remedy))
    return found


def _sysctl(root: str, name: str) -> str | None:
    """A kernel setting as /proc/sys holds it; None where this kernel has no such setting."""
    return _read(root, os.path.join("proc/sys", *name.split(".")))


def _read(root: str, path: str) -> str | None:
    try:
        return Path(root, path).read_text().strip()
    except OSError:
        return None


def _listed(items: Sequence[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    return ", ".join(items[:-1]) + (" and " if len(items) > 1 else "") + items[-1]
