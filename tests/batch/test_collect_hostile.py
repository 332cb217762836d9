"""`gradekit collect` against a class with a hostile student in it: each repository is made here, with
git's own plumbing where it must be shaped (a folder 1,100 levels deep, one tree named a thousand
times, a commit dated before the deadline but made after it, a tag moved, a classmate's URL, the
course's private repository by file://, a chain of links that leads out). Each test shows the other
students still collected and the hostile student's reason."""

from __future__ import annotations

import csv
import json
import os
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest
from collect_repositories import git, repository

from gradekit.batch import class_summary, collect, git_command, tree_writer
from gradekit.batch.gradebook import GRADED, Listing
from gradekit.batch.roster import read_roster
from gradekit.cli import main
from gradekit.result import GradeResult

DEADLINE = "2026-05-01T23:59:00+02:00"
BEFORE, LATER_BEFORE = "2026-05-01T20:00:00+02:00", "2026-05-01T21:00:00+02:00"
GOOD = "def softmax(z):\n    return z\n"


def student(repos: Path, name: str, files: dict[str, str], when: str = BEFORE) -> tuple[Path, str]:
    """A well-behaved student's repository with one commit of `files`; (its folder, the commit)."""
    repo = repository(repos / name)
    for path, text in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"{name}'s work", when=when)
    return repo, git(repo, "rev-parse", "HEAD")


def imported(repo: Path, files: dict[str, bytes], when: str = BEFORE) -> str:
    """One commit on main holding `files` (a path may be thousands of levels deep), made by `git
    fast-import` at once, each distinct content stored once; the commit's sha."""
    stamp = int(datetime.fromisoformat(when).timestamp())
    marks: dict[bytes, int] = {}
    stream = b""
    for data in files.values():
        if data not in marks:
            marks[data] = len(marks) + 1
            stream += b"blob\nmark :%d\ndata %d\n%s\n" % (marks[data], len(data), data)
    stream += b"commit refs/heads/main\ncommitter S <s@example.org> %d +0000\ndata 4\nwork\n" % stamp
    stream += b"".join(b"M 100644 :%d %s\n" % (marks[data], path.encode()) for path, data in files.items())
    git(repo, "fast-import", "--quiet", given=stream + b"\n")
    return git(repo, "rev-parse", "main")


def tree(repo: Path, lines: list[str]) -> str:
    """A tree made by `git mktree` of `lines` ("MODE TYPE SHA\\tNAME")."""
    return git(repo, "mktree", given=("\n".join(lines) + "\n").encode())


def committed(repo: Path, root: str, when: str = BEFORE) -> str:
    """The tree `root` committed on main, as its only commit."""
    sha = git(repo, "commit-tree", root, "-m", "work", when=when)
    git(repo, "update-ref", "refs/heads/main", sha)
    return sha


def roster(path: Path, rows: list[tuple[str, str]], tags: dict[str, str] | None = None) -> Path:
    """A roster of (id, repository) rows; each id's name is the id capitalised."""
    tags = tags or {}
    lines = [f"{i},{i.title()},{url},{tags.get(i, '')}\n" for i, url in rows]
    path.write_text("id,name,repository,tag\n" + "".join(lines))
    return path


def collected(out: Path) -> dict[str, dict[str, str]]:
    return {row["id"]: row for row in csv.DictReader((out / "collected.csv").open())}


def run(path: Path, out: Path, repos: Path, *more: str) -> int:
    return main(["collect", str(path), "--deadline", DEADLINE, "--out", str(out), "--allow-local", str(repos), *more])


@pytest.fixture
def repos(tmp_path: Path) -> Path:
    """The folder of the class's repositories, with alice's, a well-behaved student's, in it."""
    folder = tmp_path / "repos"
    student(folder, "alice", {"submission.py": GOOD})
    return folder


def assert_alice_collected(out: Path) -> None:
    assert (out / "submissions" / "alice" / "submission.py").read_text() == GOOD
    assert collected(out)["alice"]["status"] == "collected"


# Shapes of tree ------------------------------------------------------------------------------------------


def test_a_folder_1100_levels_deep_is_its_student_s_reason_and_the_class_is_collected(tmp_path, repos, capsys):
    deep = repository(repos / "deep")
    imported(deep, {"/".join(["d"] * 1100) + "/submission.py": GOOD.encode()})
    path, out = roster(tmp_path / "class.csv", [("alice", str(repos / "alice")), ("deep", str(deep))]), tmp_path / "o"
    for _ in range(2):  # and the rerun the same
        assert run(path, out, repos) == 0
        assert_alice_collected(out)
        row = collected(out)["deep"]
        assert row["status"] == "missing"
        assert row["reason"].endswith(f"holds folders more than {tree_writer.MAX_DEPTH} deep, over the cap collected")
        assert not (out / "submissions" / "deep").exists()
        assert [r["id"] for r in csv.DictReader((out / "roster.csv").open())] == ["alice", "deep"]
    assert "deep is missing: its tree at" in capsys.readouterr().err


def test_one_folder_chain_named_a_thousand_times_is_refused_before_a_folder_is_written(tmp_path, repos):
    """A 30-level chain (within the cap on depth), named 1,000 times by its root: 30,000 folders if
    written, a few KiB pushed."""
    bomb = repository(repos / "bomb")
    imported(bomb, {"/".join(["d"] * 30) + "/x.py": b"x = 1\n"})
    chain = git(bomb, "rev-parse", "main:d")
    committed(bomb, tree(bomb, [f"040000 tree {chain}\tc{i:04}" for i in range(1000)]))
    git(bomb, "repack", "-adq")
    packed = dict(line.split(": ") for line in git(bomb, "count-objects", "-v").splitlines())
    assert int(packed["size-pack"]) < 16, "what is pushed is a few KiB"
    path, out = roster(tmp_path / "class.csv", [("bomb", str(bomb)), ("alice", str(repos / "alice"))]), tmp_path / "o"
    assert run(path, out, repos) == 0
    assert_alice_collected(out)
    assert collected(out)["bomb"]["reason"].endswith(
        f"holds more than {tree_writer.MAX_FOLDERS} folders, over the cap collected"
    )
    assert sorted(p.name for p in (out / "submissions").iterdir()) == ["alice"]  # no partial folder either


@pytest.mark.parametrize(
    "files, said",
    [
        ({f"f{i:05}.py": b"x = 1\n" for i in range(tree_writer.MAX_FILES + 1)}, "more than 10000 files and links"),
        ({f"f{i}.py": b"x" * 2**20 for i in range(65)}, "more than 64 MiB of files"),
        ({"/".join(["n" * 200] * 6): b"x = 1\n"}, "a path longer than 1024 bytes"),
    ],
    ids=["files", "bytes", "path"],
)
def test_every_cap_is_counted_as_written_and_named_in_the_reason(tmp_path, repos, files, said):
    """One blob named many times is counted each time it would be written."""
    big = repository(repos / "big")
    imported(big, files)
    rows = [("alice", str(repos / "alice")), ("big", str(big))]
    alice, got = collect.collect(
        [collect.Repository(i, i, url) for i, url in rows],
        datetime.fromisoformat(DEADLINE),
        tmp_path / "o",
        tmp_path / "c",
        local=repos,
    )
    assert alice.status == "collected"
    assert got.status == "missing" and got.reason is not None and said in got.reason
    assert not (tmp_path / "o" / "big").exists()


def test_a_repository_over_the_size_collected_is_stopped_and_its_clone_removed(tmp_path, repos, monkeypatch):
    """The cap on a clone's size on disk, made small here: one file of 1 MiB that does not compress."""
    monkeypatch.setattr(git_command, "MAX_REPOSITORY", 256 * 2**10)
    big, _ = student(repos, "big", {"submission.py": GOOD})
    (big / "data.bin").write_bytes(os.urandom(2**20))
    git(big, "add", "-A")
    git(big, "commit", "-q", "-m", "data")
    path, out = roster(tmp_path / "class.csv", [("big", str(big)), ("alice", str(repos / "alice"))]), tmp_path / "o"
    assert run(path, out, repos) == 0
    assert_alice_collected(out)
    assert collected(out)["big"]["reason"] == "its repository is over the 0.25 MiB collected, as git clone wrote it"
    assert sorted(p.name for p in (out / "repositories").iterdir()) == ["alice.git"]


def test_a_deep_folder_left_in_the_output_is_removed_without_recursing(tmp_path, repos):
    left = tmp_path / "o" / "alice"
    deepest = left
    for _ in range(1100):
        deepest = deepest / "d"
        deepest.mkdir(parents=True)
    (deepest / "old.py").write_text("x = 1\n")
    (got,) = collect.collect(
        [collect.Repository("alice", "A", str(repos / "alice"))],
        datetime.fromisoformat(DEADLINE),
        tmp_path / "o",
        tmp_path / "c",
        local=repos,
    )
    assert got.status == "collected" and sorted(p.name for p in left.iterdir()) == ["submission.py"]


def test_any_failure_of_one_student_is_their_reason(tmp_path, repos, monkeypatch):
    """An exception no check foresaw, in any step, is the student's `missing`, not the class's crash."""
    student(repos, "bob", {"submission.py": GOOD})
    chosen = collect._chosen

    def broken(repository, deadline, clone):
        if repository.id == "bob":
            raise RecursionError("maximum recursion depth exceeded")
        return chosen(repository, deadline, clone)

    monkeypatch.setattr(collect, "_chosen", broken)
    path, out = (
        roster(tmp_path / "class.csv", [("bob", str(repos / "bob")), ("alice", str(repos / "alice"))]),
        tmp_path / "o",
    )
    assert run(path, out, repos) == 0
    assert_alice_collected(out)
    assert (
        collected(out)["bob"]["reason"]
        == "it could not be collected (RecursionError: maximum recursion depth exceeded)"
    )


# Links --------------------------------------------------------------------------------------------------


def test_no_link_is_written_so_none_leads_out_of_the_student_s_folder(tmp_path, repos):
    """`here` is `.`, so `here/..` (which looks inside) is the submissions folder, and `up/up/...` climbs
    further; a chain of links, each inside on its own, and a folder's link to `..`: none is written,
    each named."""
    chain = repository(repos / "chain")
    (chain / "submission.py").write_text(GOOD)
    (chain / "sub").mkdir()
    for name, to in [("here", "."), ("up", "here/.."), ("far", "up/up/up/etc/passwd"), ("sub/back", "..")]:
        os.symlink(to, chain / name)
    git(chain, "add", "-A")
    git(chain, "commit", "-q", "-m", "links")
    path, out = roster(tmp_path / "class.csv", [("chain", str(chain)), ("alice", str(repos / "alice"))]), tmp_path / "o"
    assert run(path, out, repos) == 0
    assert_alice_collected(out)
    written = [Path(root) / name for root, folders, files in os.walk(out / "submissions") for name in folders + files]
    assert not [p for p in written if p.is_symlink()]
    inside = out / "submissions" / "chain"
    assert sorted(p.relative_to(inside).as_posix() for p in written if inside in p.parents) == ["sub", "submission.py"]
    row = collected(out)["chain"]
    assert row["status"] == "collected"
    assert sorted(row["notes"].split("; ")) == [
        "far is a symbolic link to up/up/up/etc/passwd, left out (no link is written)",
        "here is a symbolic link to ., left out (no link is written)",
        "sub/back is a symbolic link to .., left out (no link is written)",
        "up is a symbolic link to here/.., left out (no link is written)",
    ]


def test_the_notes_name_the_first_things_left_out_and_count_the_rest(tmp_path, repos):
    many = repository(repos / "many")
    (many / "submission.py").write_text(GOOD)
    for i in range(30):
        os.symlink("submission.py", many / f"l{i:02}.py")
    git(many, "add", "-A")
    git(many, "commit", "-q", "-m", "links")
    (got,) = collect.collect(
        [collect.Repository("many", "M", str(many))],
        datetime.fromisoformat(DEADLINE),
        tmp_path / "o",
        tmp_path / "c",
        local=repos,
    )
    assert got.notes[0] == "l00.py is a symbolic link to submission.py, left out (no link is written)"
    assert len(got.notes) == 21 and got.notes[-1] == "and 10 more left out"


# Whose repository ----------------------------------------------------------------------------------------


def test_a_classmate_s_repository_is_flagged_for_both_in_collected_csv_and_the_roster(tmp_path, repos, capsys):
    """mallory's row names alice's repository, spelled otherwise (a file:// URL, a trailing slash)."""
    alice = repos / "alice"
    student(repos, "carol", {"submission.py": GOOD})
    rows = [("alice", str(alice)), ("mallory", f"file://{alice}/"), ("carol", str(repos / "carol"))]
    path, out = roster(tmp_path / "class.csv", rows), tmp_path / "o"
    assert run(path, out, repos) == 0
    got = collected(out)
    assert got["mallory"]["status"] == "collected" and got["mallory"]["commit"] == got["alice"]["commit"]
    assert got["alice"]["shared"] == "same repository as mallory; same commit as mallory"
    assert got["mallory"]["shared"] == "same repository as alice; same commit as alice"
    assert got["carol"]["shared"] == "" and got["carol"]["status"] == "collected"
    listed = {row["id"]: row["shared"] for row in csv.DictReader((out / "roster.csv").open())}
    assert listed == {"alice": got["alice"]["shared"], "mallory": got["mallory"]["shared"], "carol": ""}
    assert "gradekit: mallory: same repository as alice; same commit as alice" in capsys.readouterr().err


def test_the_class_summary_names_whose_repository_or_commit_is_shared(tmp_path, repos, cross_entropy):
    """The roster `collect` writes carries the flag to the class summary a class grade renders."""
    rows = [("alice", str(repos / "alice")), ("mallory", str(repos / "alice"))]
    path, out = roster(tmp_path / "class.csv", rows), tmp_path / "o"
    assert run(path, out, repos) == 0
    listed = {row.id: Listing(row.name, GRADED, dict(row.columns)) for row in read_roster(out / "roster.csv")}
    graded = [(student, GradeResult("cross_entropy", student, 1)) for student in listed]
    summary = class_summary.render(cross_entropy, graded, "h.svg", listed).splitlines()
    at = summary.index("## Shared repositories or commits (2)")
    assert summary[at + 4 : at + 6] == [
        "- **alice**: same repository as mallory; same commit as mallory",
        "- **mallory**: same repository as alice; same commit as alice",
    ]


def test_a_commit_pushed_to_two_repositories_is_flagged(tmp_path, repos):
    copy = repos / "copy"
    subprocess.run(["git", "clone", "-q", str(repos / "alice"), str(copy)], check=True)
    rows = [("alice", str(repos / "alice")), ("copy", str(copy))]
    path, out = roster(tmp_path / "class.csv", rows), tmp_path / "o"
    assert run(path, out, repos) == 0
    assert collected(out)["copy"]["shared"] == "same commit as alice"


def test_network_urls_spelled_otherwise_are_one_repository(tmp_path):
    """Two spellings of one repository: https with a user and .git, and ssh's user@host:path. Neither
    can be fetched here (the host is reserved never to exist): both are missing, and flagged."""
    rows = [
        collect.Repository("ann", "A", "https://someone@Example.invalid/uni-ml/HW1-ann.git"),
        collect.Repository("eve", "E", "git@example.invalid:uni-ml/hw1-ann/"),
    ]
    ann, eve = collect.collect(rows, datetime.fromisoformat(DEADLINE), tmp_path / "o", tmp_path / "c")
    assert ann.status == eve.status == "missing"
    assert (ann.shared, eve.shared) == ("same repository as eve", "same repository as ann")


def test_the_course_s_own_repository_on_this_machine_is_not_collected(tmp_path, repos):
    """The course's private repository, by file:// URL, by path, by a path that climbs out of the
    allowed folder, and by a remote helper: each row is missing with its reason, and nothing of it is
    written; without --allow-local, no local repository is collected at all."""
    course, _ = student(tmp_path, "course", {"solution.py": "SECRET = 1\n"})
    rows = [
        ("alice", str(repos / "alice")),
        ("url", f"file://{course}"),
        ("path", str(course)),
        ("climb", f"{repos}/../course"),
        ("helper", f"ext::sh -c touch% {tmp_path / 'ran'}"),
    ]
    path, out = roster(tmp_path / "class.csv", rows), tmp_path / "o"
    assert run(path, out, repos) == 0
    assert_alice_collected(out)
    got = collected(out)
    outside = f"it names a repository on this machine outside {repos.resolve()}, the folder --allow-local names"
    assert [got[i]["reason"] for i in ("url", "path", "climb")] == [outside] * 3
    assert got["helper"]["reason"] == "it names git's remote helper ext::, which is not collected"
    assert not list(out.rglob("solution.py")) and not (tmp_path / "ran").exists()
    assert main(["collect", str(path), "--deadline", DEADLINE, "--out", str(tmp_path / "none")]) == 0
    refused = collected(tmp_path / "none")["alice"]
    assert refused["status"] == "missing" and "unless --allow-local names a folder holding it" in refused["reason"]


# The commit at the deadline ------------------------------------------------------------------------------


def test_a_back_dated_commit_after_the_pinned_collection_is_named_not_taken(tmp_path, repos, capsys):
    alice, first = repos / "alice", git(repos / "alice", "rev-parse", "HEAD")
    _, bob = student(repos, "bob", {"submission.py": "x = 2\n"})
    path, out = roster(tmp_path / "class.csv", [("alice", str(alice)), ("bob", str(repos / "bob"))]), tmp_path / "o"
    assert run(path, out, repos) == 0
    pins = json.loads((out / "pinned.json").read_text())["students"]
    assert pins["alice"]["commit"] == first and pins["bob"]["commit"] == bob
    fetched = datetime.fromisoformat(pins["alice"]["fetched"].replace("Z", "+00:00"))
    assert fetched >= datetime.fromisoformat(DEADLINE)
    (alice / "submission.py").write_text("def softmax(z):\n    return [1.0]\n")
    git(alice, "commit", "-qam", "after the deadline, dated before it", when=LATER_BEFORE)
    late = git(alice, "rev-parse", "HEAD")
    capsys.readouterr()
    assert run(path, out, repos) == 0  # the regrade run
    assert_alice_collected(out)
    row = collected(out)["alice"]
    assert row["commit"] == first and row["pinned"] == "yes"
    assert row["fetched"] == pins["alice"]["fetched"]
    assert row["changed"].startswith(f"the deadline takes {late[:12]} (of 2026-05-01T21:00:00+02:00) now; the pinned")
    assert collected(out)["bob"]["changed"] == ""
    said = capsys.readouterr().err
    assert f"gradekit: alice: the deadline takes {late[:12]}" in said and "--recollect alice takes it" in said
    assert run(path, out, repos, "--recollect", "alice") == 0
    row = collected(out)["alice"]
    assert row["commit"] == late and row["changed"] == f"recollected: {late[:12]} replaces the pinned {first[:12]}"
    assert json.loads((out / "pinned.json").read_text())["students"]["alice"]["commit"] == late


def test_a_moved_tag_keeps_the_pinned_commit(tmp_path, repos):
    dan, tagged = student(repos, "dan", {"submission.py": GOOD})
    git(dan, "tag", "handin")
    rows = [("dan", str(dan)), ("alice", str(repos / "alice"))]
    path, out = roster(tmp_path / "class.csv", rows, {"dan": "handin"}), tmp_path / "o"
    assert run(path, out, repos) == 0
    (dan / "submission.py").write_text("def softmax(z):\n    return [0.5]\n")
    git(dan, "commit", "-qam", "redone", when=LATER_BEFORE)
    git(dan, "tag", "-f", "handin")  # and pushed with --force
    moved = git(dan, "rev-parse", "HEAD")
    assert run(path, out, repos) == 0
    assert (out / "submissions" / "dan" / "submission.py").read_text() == GOOD
    row = collected(out)["dan"]
    assert row["commit"] == tagged and row["changed"].startswith(f"the deadline takes {moved[:12]}")
    assert_alice_collected(out)
    assert run(path, out, repos, "--recollect-all") == 0
    assert collected(out)["dan"]["commit"] == moved


def test_a_repository_deleted_or_renamed_after_the_deadline_keeps_its_pinned_commit(tmp_path, repos):
    """The student cannot undo the collection: a repository gone keeps its pin, with a note; one the
    roster names anew is named as a change, and kept until recollected."""
    _, first = student(repos, "eve", {"submission.py": GOOD})
    path, out = (
        roster(tmp_path / "class.csv", [("eve", str(repos / "eve")), ("alice", str(repos / "alice"))]),
        tmp_path / "o",
    )
    assert run(path, out, repos) == 0
    (repos / "eve").rename(repos / "eve-gone")
    assert run(path, out, repos) == 0
    row = collected(out)["eve"]
    assert row["status"] == "collected" and row["commit"] == first
    assert (
        row["notes"].startswith("it could not be fetched now (git fetch failed") and "the pin is kept" in row["notes"]
    )
    _, other = student(repos, "eve-new", {"submission.py": "x = 2\n"})
    path = roster(path, [("eve", str(repos / "eve-new")), ("alice", str(repos / "alice"))])
    assert run(path, out, repos) == 0
    row = collected(out)["eve"]
    assert row["commit"] == first and row["changed"].startswith(f"the deadline takes {other[:12]}")
    assert (out / "submissions" / "eve" / "submission.py").read_text() == GOOD
    assert run(path, out, repos, "--recollect", "eve") == 0
    assert collected(out)["eve"]["commit"] == other


def test_a_collection_before_the_deadline_pins_nothing(tmp_path, repos):
    rows = [collect.Repository("alice", "A", str(repos / "alice"))]
    deadline = datetime.fromisoformat(DEADLINE)
    early = datetime(2026, 5, 1, 12, tzinfo=timezone.utc)
    (before,) = collect.collect(rows, deadline, tmp_path / "o", tmp_path / "c", local=repos, now=early)
    assert before.status == "collected" and before.pin is None and before.fetched == "2026-05-01T12:00:00Z"
    after = datetime(2026, 5, 2, tzinfo=timezone.utc)
    (pinned,) = collect.collect(rows, deadline, tmp_path / "o", tmp_path / "c", local=repos, now=after)
    assert pinned.pin is not None and pinned.pin.fetched == "2026-05-02T00:00:00Z"


def test_recollecting_a_student_not_on_the_roster_is_a_usage_error(tmp_path, repos, capsys):
    path = roster(tmp_path / "class.csv", [("alice", str(repos / "alice"))])
    assert run(path, tmp_path / "o", repos, "--recollect", "zoe") == 2
    assert "--recollect zoe: there is no zoe on the roster" in capsys.readouterr().err
