"""`gradekit collect`: each student's git repository (local ones, made here with dated commits) taken as
it stood at the deadline, a repository that cannot be had is a student missing with the reason, the
tree is written below the student's folder alone, and the grade's provenance names the commit."""

from __future__ import annotations

import csv
import json
import os
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from collect_repositories import git, repository

from gradekit.batch import collect
from gradekit.cli import main
from gradekit.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = "2026-05-01T23:59:00+02:00"
BEFORE, AT, AFTER = "2026-05-01T20:00:00+02:00", "2026-05-01T21:59:00+00:00", "2026-05-02T09:00:00+02:00"


def commit(repo: Path, files: dict[str, str], when: str) -> str:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"work of {when}", when=when)
    return git(repo, "rev-parse", "HEAD")


def allowed(tmp_path: Path) -> list[str]:
    """The option that lets `collect` take the repositories made here, on this machine."""
    return ["--allow-local", str(tmp_path / "repos")]


def roster(path: Path, rows: list[list[str]], header: str = "id,name,repository,tag") -> Path:
    path.write_text(header + "\n" + "".join(",".join(row) + "\n" for row in rows))
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.open()))


@pytest.fixture
def term(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """Four students: alice worked past the deadline, bob only after it, carol's repository is not
    there, dan tagged his submission; with the commits each should be collected at."""
    good = (ROOT / "examples" / "submission.py").read_text()
    buggy = (ROOT / "examples" / "buggy_submission.py").read_text()
    alice = repository(tmp_path / "repos" / "alice")
    before = commit(alice, {"submission.py": good}, BEFORE)
    at = commit(alice, {"notes.md": "done\n"}, AT)  # exactly at the deadline: counted
    commit(alice, {"submission.py": buggy}, AFTER)
    bob = repository(tmp_path / "repos" / "bob")
    commit(bob, {"submission.py": good}, AFTER)
    dan = repository(tmp_path / "repos" / "dan")
    tagged = commit(dan, {"submission.py": buggy}, BEFORE)
    git(dan, "tag", "handin")
    commit(dan, {"submission.py": good}, BEFORE.replace("20:00", "21:00"))
    rows = [
        ["alice", "Alice A", str(alice), ""],
        ["bob", "Bob B", str(bob), ""],
        ["carol", "Carol C", str(tmp_path / "repos" / "carol"), ""],
        ["dan", "Dan D", str(dan), "handin"],
    ]
    assert before != at
    return roster(tmp_path / "class.csv", rows), {"alice": at, "dan": tagged}


def test_each_repository_is_taken_at_its_last_commit_by_the_deadline_and_the_rest_are_missing(tmp_path, term, capsys):
    path, commits = term
    out = tmp_path / "term"
    assert main(["collect", str(path), "--deadline", DEADLINE, "--out", str(out), *allowed(tmp_path)]) == 0
    said = capsys.readouterr().err
    good = (ROOT / "examples" / "submission.py").read_text()
    assert (out / "submissions" / "alice" / "submission.py").read_text() == good  # not the buggy one pushed late
    assert (out / "submissions" / "alice" / "notes.md").read_text() == "done\n"
    buggy = (ROOT / "examples" / "buggy_submission.py").read_text()
    assert (out / "submissions" / "dan" / "submission.py").read_text() == buggy  # the tag, not the newer commit
    assert sorted(p.name for p in (out / "submissions").iterdir()) == ["alice", "dan"]
    graded = read_csv(out / "roster.csv")
    assert [(r["id"], r["name"]) for r in graded] == [("alice", "Alice A"), ("bob", "Bob B"), ("carol", "Carol C"),
                                                      ("dan", "Dan D")]  # fmt: skip
    assert [r["submission"] for r in graded] == ["alice", "bob", "carol", "dan"]  # within submissions/
    assert not (out / "submissions" / "bob").exists()  # a missing student's folder is not there
    rows = {r["id"]: r for r in read_csv(out / "collected.csv")}
    assert rows["alice"]["commit"] == commits["alice"] and rows["alice"]["status"] == "collected"
    assert datetime.fromisoformat(rows["alice"]["date"]) == datetime.fromisoformat(AT)
    assert rows["dan"]["commit"] == commits["dan"]
    assert rows["bob"]["status"] == "missing" and "no commit at or before the deadline" in rows["bob"]["reason"]
    assert rows["carol"]["status"] == "missing" and rows["carol"]["reason"].startswith("git clone failed")
    assert "bob is missing: no commit at or before the deadline" in said and "2 of 4 collected" in said


def test_a_later_run_fetches_again_and_replaces_what_it_collected(tmp_path, term):
    path, _ = term
    out = tmp_path / "term"
    assert main(["collect", str(path), "--deadline", DEADLINE, "--out", str(out), *allowed(tmp_path)]) == 0
    assert (out / "repositories" / "alice.git").is_dir()
    late = "2026-05-03T12:00:00+02:00"
    alice = tmp_path / "repos" / "alice"
    newest = commit(alice, {"submission.py": "def softmax(z):\n    return z\n"}, "2026-05-02T12:00:00+02:00")
    assert main(["collect", str(path), "--deadline", late, "--out", str(out), *allowed(tmp_path)]) == 0
    assert (out / "submissions" / "alice" / "submission.py").read_text() == "def softmax(z):\n    return z\n"
    rows = {r["id"]: r for r in read_csv(out / "collected.csv")}
    assert rows["alice"]["commit"] == newest and rows["bob"]["status"] == "collected"


def test_a_collected_class_is_graded_and_each_result_names_its_commit(tmp_path, term):
    path, commits = term
    out = tmp_path / "term"
    grade = ["--assignment", "cross_entropy", "--max-examples", "20", "--seed-file", str(tmp_path / "seed")]
    assert main(["collect", str(path), "--deadline", DEADLINE, "--out", str(out), *allowed(tmp_path), *grade]) == 0
    results = out / "results" / "results"
    alice = json.loads((results / "alice.json").read_text())
    assert alice["score"] == alice["max_score"]
    assert alice["provenance"]["commit"]["sha"] == commits["alice"]
    assert datetime.fromisoformat(alice["provenance"]["commit"]["date"]) == datetime.fromisoformat(AT)
    dan = json.loads((results / "dan.json").read_text())
    assert dan["provenance"]["commit"]["sha"] == commits["dan"] and dan["score"] < dan["max_score"]
    gradebook = read_csv(out / "results" / "gradebook.csv")
    assert len(gradebook) == 4, "every student of the roster has a row, the missing ones too"
    bob = next(row for row in gradebook if row["student"] == "bob")
    assert bob["error"].startswith("no submission: no commit at or before the deadline"), "the reason collect gave"
    assert "no commit at or before the deadline" in (out / "results" / "feedback" / "bob.md").read_text()


def test_a_tree_is_written_below_the_student_s_folder_alone(tmp_path):
    """No symbolic link is written, inside the repository or out of it, and no submodule: each is
    left out with a note naming it; no hook of the repository's runs."""
    repo = repository(tmp_path / "repos" / "eve")
    (repo / "submission.py").write_text("def softmax(z):\n    return z\n")
    os.symlink("/etc/passwd", repo / "passwd.py")
    os.symlink("../../../outside", repo / "up.py")
    os.symlink("submission.py", repo / "same.py")
    hook = repo / ".git" / "hooks" / "post-checkout"
    hook.write_text(f"#!/bin/sh\ntouch {tmp_path / 'hooked'}\n")
    hook.chmod(0o755)
    git(repo, "add", "-A")
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{'1' * 40},vendor")
    git(repo, "commit", "-q", "-m", "links")
    sha = git(repo, "rev-parse", "HEAD")
    out = tmp_path / "submissions"
    (got,) = collect.collect(
        [collect.Repository("eve", "Eve", str(repo))],
        datetime.fromisoformat(AFTER),
        out,
        tmp_path / "clones",
        local=tmp_path / "repos",
    )
    assert got.commit == sha and got.reason is None
    assert sorted(p.name for p in (out / "eve").iterdir()) == ["submission.py"]
    assert sorted(got.notes) == [
        "passwd.py is a symbolic link to /etc/passwd, left out (no link is written)",
        "same.py is a symbolic link to submission.py, left out (no link is written)",
        "up.py is a symbolic link to ../../../outside, left out (no link is written)",
        "vendor is a submodule, left out",
    ]
    assert not (tmp_path / "hooked").exists() and not (tmp_path / "outside").exists()


def test_a_tree_holding_a_path_out_of_the_folder_is_missing_not_written(tmp_path):
    """A tree made by hand with a `..` entry: git's own checks on what it receives refuse it, and the
    student is missing, with nothing written."""
    repo = repository(tmp_path / "repos" / "mallory")
    blob = subprocess.run(
        ["git", "-C", str(repo), "hash-object", "-w", "--stdin"], input="x = 1\n", capture_output=True, text=True
    ).stdout.strip()
    tree = subprocess.run(
        ["git", "-C", str(repo), "mktree", "--missing"],
        input=f"100644 blob {blob}\t..\n",
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert tree, "git made the hostile tree"
    git(repo, "update-ref", "refs/heads/main", git(repo, "commit-tree", tree, "-m", "escape"))
    (got,) = collect.collect(
        [collect.Repository("mallory", "M", str(repo))],
        datetime.fromisoformat(AFTER),
        tmp_path / "out",
        tmp_path / "c",
        local=tmp_path,
    )
    assert got.status == "missing" and got.reason
    assert list((tmp_path / "out").iterdir()) == []


def test_a_tag_after_the_deadline_or_missing_is_a_reason_not_a_crash(tmp_path):
    repo = repository(tmp_path / "repos" / "tim")
    commit(repo, {"submission.py": "x = 1\n"}, AFTER)
    git(repo, "tag", "late")
    rows = [collect.Repository("tim", "T", str(repo), "late"), collect.Repository("tom", "T", str(repo), "absent")]
    late, absent = collect.collect(
        rows, datetime.fromisoformat(DEADLINE), tmp_path / "out", tmp_path / "c", local=tmp_path
    )
    assert late.reason is not None and late.reason.startswith("the tag late is on a commit of 2026-05-02T09:00:00")
    assert absent.reason == "there is no tag absent on a commit"


def test_an_empty_repository_is_missing(tmp_path):
    repo = repository(tmp_path / "repos" / "ann")
    (got,) = collect.collect(
        [collect.Repository("ann", "A", str(repo))],
        datetime.fromisoformat(DEADLINE),
        tmp_path / "o",
        tmp_path / "c",
        local=tmp_path,
    )
    assert got.reason == "the repository has no commit on its default branch"


@pytest.mark.parametrize(
    "deadline, said",
    [("2026-05-01T23:59:00", "give its time zone too"), ("tomorrow", "is not an ISO 8601 date and time")],
)
def test_a_deadline_without_its_time_zone_is_a_usage_error(tmp_path, deadline, said, capsys):
    path = roster(tmp_path / "class.csv", [["a", "A", str(tmp_path), ""]])
    assert main(["collect", str(path), "--deadline", deadline, "--out", str(tmp_path / "out")]) == 2
    assert said in capsys.readouterr().err and not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "header, rows, said",
    [
        ("id,name,url", [["a", "A", "x"]], "has no 'repository' column"),
        ("id,name,repository", [["../a", "A", "x"]], "line 2 of"),
        ("id,name,repository", [["a", "A", "x"], ["a", "B", "y"]], "line 3 of"),
        ("id,name,repository", [["a", "A", "--upload-pack=touch"]], "a has no repository"),
    ],
    ids=["column", "id", "twice", "option"],
)
def test_a_roster_that_cannot_be_read_names_its_line(tmp_path, header, rows, said):
    with pytest.raises(UsageError, match=said):
        collect.read_repositories(roster(tmp_path / "class.csv", rows, header))


def test_the_roster_may_leave_the_tag_out_and_carry_a_byte_order_mark(tmp_path):
    path = tmp_path / "class.csv"
    path.write_text("\ufeffId, Name ,Repository\nann,Ann A,https://example.org/ann.git\n")
    assert collect.read_repositories(path) == [collect.Repository("ann", "Ann A", "https://example.org/ann.git")]


def test_a_missing_tree_left_from_before_is_removed(tmp_path):
    out = tmp_path / "out"
    (out / "zed").mkdir(parents=True)
    (out / "zed" / "old.py").write_text("x = 1\n")
    (got,) = collect.collect(
        [collect.Repository("zed", "Z", str(tmp_path / "nowhere"))],
        datetime.fromisoformat(DEADLINE),
        out,
        tmp_path / "c",
        local=tmp_path,
    )
    assert got.status == "missing" and not (out / "zed").exists()
