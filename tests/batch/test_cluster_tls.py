"""`gradekit grade --dask tls://...`: a class graded on a LocalCluster whose scheduler and worker speak TLS
alone, with temporary certificates (`distributed.security.Security.temporary`) that the grader is given
through Dask's own configuration variables, as docs/cluster.md says; without them, one sentence."""

from __future__ import annotations

import shutil
from pathlib import Path

import dask
import pytest
from conftest import scratch_in
from distributed import LocalCluster
from distributed.security import Security

from gradekit.cli import main

ROOT = Path(__file__).resolve().parents[2]
VARIABLES = {  # docs/cluster.md#over-tls
    "DASK_DISTRIBUTED__COMM__TLS__CA_FILE": "tls_ca_file",
    "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT": "tls_client_cert",
    "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY": "tls_client_key",
}


@pytest.fixture
def configured(monkeypatch, tmp_path):
    """Dask's configuration read again from the variables set here, and again once they are gone."""

    def configure(variables: dict[str, str]) -> None:
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        dask.config.refresh()

    yield configure
    monkeypatch.undo()
    dask.config.refresh()


def test_a_class_is_graded_over_tls_with_the_certificates_dask_s_configuration_names(tmp_path, configured):
    security = Security.temporary()
    files = {}
    for variable, field in VARIABLES.items():
        files[variable] = str(tmp_path / f"{field}.pem")
        Path(files[variable]).write_text(getattr(security, field))
    students = tmp_path / "class"
    students.mkdir()
    shutil.copy(ROOT / "examples" / "submission.py", students / "alice.py")
    shutil.copy(ROOT / "examples" / "buggy_submission.py", students / "bob.py")
    grade = ["grade", str(students), "--assignment", "cross_entropy", "--max-examples", "20"]
    with (
        scratch_in(tmp_path) as env,
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, security=security, dashboard_address=":0", env=env
        ) as cluster,
    ):  # its HTTP server on any free port: another test process may hold Dask's default one
        address = cluster.scheduler_address
        assert address.startswith("tls://")
        assert main([*grade, "--out", str(tmp_path / "plain"), "--dask", address]) == 2  # no certificate yet
        configured(files)
        assert main([*grade, "--out", str(tmp_path / "results"), "--dask", address]) == 0
    gradebook = (tmp_path / "results" / "gradebook.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in gradebook[1:]] == ["alice", "bob"]
    assert not (tmp_path / "plain" / "gradebook.csv").exists()


def test_a_tls_address_without_certificates_is_one_sentence(tmp_path, capsys):
    students = tmp_path / "class"
    students.mkdir()
    out = tmp_path / "results"
    assert (
        main(
            ["grade", str(students), "--assignment", "cross_entropy", "--out", str(out), "--dask", "tls://127.0.0.1:9"]
        )
        == 2
    )
    said = capsys.readouterr().err.strip()
    assert said.startswith("gradekit: --dask tls://127.0.0.1:9: TLS needs the cluster's CA certificate")
    assert "DASK_DISTRIBUTED__COMM__TLS__CA_FILE" in said and len(said.splitlines()) == 1
