"""``canarykit submit --from-mlflow``, ``mlflow verify | sync`` and ``check-startup --mlflow``
through the command line, against the real MLflow server of the test session (issue 18)."""

from __future__ import annotations

import json
import socket
import uuid
from pathlib import Path
from typing import Any

import pytest
from signed_cli import MODEL, Cli

from canarykit.cli import common
from canarykit.cli.main import main
from canarykit.promotion.api import Promotion


class MlflowCli(Cli):
    """The signed CLI flow, with versions submitted from MLflow (``sources``)."""

    sources: dict[str, str]
    folders: dict[str, Path]

    def to_staging(self, version: str) -> None:
        code, out, err = self(
            "submit", MODEL, version, "--from-mlflow", self.sources[version], actor="ann"
        )
        assert (code, err) == (0, "")  # no traceback, no progress bar, no MLflow log line
        assert self.sources[version] in out
        approve = ("approve", MODEL, version, "--role", "security", "--stage", "Staging")
        assert self(*approve, actor="sam")[0] == 0
        sig = str(self.tmp / f"{version}.sig.json")  # canarykit sign signs the model folder
        sign = ("sign", str(self.folders[version]), "--key", self.pem("release-key"))
        assert main([*sign, "--key-id", "release-key", "--out", sig]) == 0
        sbom = self.file(
            f"{version}.cdx.json",
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.5",
                "components": [{"type": "library", "name": "numpy", "version": "2.0.0"}],
                "vulnerabilities": [],
            },
        )
        code, _, err = self(
            *("promote", MODEL, version, "--to", "Staging", "--signature", sig, "--sbom", sbom),
            *("--policy", str(self.policy), "--artifact", str(self.folders[version])),
        )
        assert code == 0, err


def register(client: Any, name: str, folder: Path) -> str:
    if not client.search_registered_models(filter_string=f"name = '{name}'"):
        client.create_registered_model(name)
    run = client.create_run("0")
    client.log_artifacts(run.info.run_id, str(folder), "model")
    version = client.create_model_version(
        name, source=f"runs:/{run.info.run_id}/model", run_id=run.info.run_id
    )
    return str(version.version)


@pytest.fixture
def setup(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    mlflow_server: str,
) -> tuple[MlflowCli, Any, str]:
    from mlflow.tracking import MlflowClient

    monkeypatch.delenv(common.KEY_ENV, raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    client = MlflowClient(tracking_uri=mlflow_server, registry_uri=mlflow_server)
    name = f"cli-model-{uuid.uuid4().hex[:10]}"
    runner = MlflowCli(tmp_path, capsys, drill=False)
    runner.setup()
    runner.sources, runner.folders = {}, {}
    for version in ("v1", "v2"):
        folder = tmp_path / f"model-{version}"
        folder.mkdir()
        (folder / "MLmodel").write_text(f"flavors: {{}}\n# {version}\n")
        (folder / "model.pkl").write_bytes(version.encode() * 64)
        runner.folders[version] = folder
        runner.sources[version] = f"models:/{name}/{register(client, name, folder)}"
    capsys.readouterr()  # MLflow's own log lines while registering
    return runner, client, name


def test_submit_verify_drift_startup_and_sync_through_the_cli(
    setup: tuple[MlflowCli, Any, str],
) -> None:
    cli, client, name = setup
    chg = cli.to_approved("v1")
    std = cli.ticket("CHG-STD", ["v1"], kind="Standard")
    assert cli("change", "create", std)[0] == 0
    code, _, err = cli("alias", "set", MODEL, "v1", "--expect", "none", "--chg", "CHG-STD")
    assert code == 0, err
    n1 = cli.sources["v1"].rsplit("/", 1)[1]
    assert client.get_registered_model(name).aliases == {"production": n1}
    tags = client.get_model_version(name, n1).tags
    assert tags["canarykit.stage"] == "Approved"
    assert tags["canarykit.chg_id"] == chg

    code, out, err = cli("mlflow", "verify", MODEL, actor=None)
    assert (code, err) == (0, "")
    assert f"OK {MODEL} → MLflow {name}: MLflow shows canarykit's state" in out
    startup = ("check-startup", MODEL, "--policy-digest", cli.digest)
    startup += ("--artifact", str(cli.folders["v1"]), "--mlflow")
    code, out, err = cli(*startup)
    assert code == 0, out + err

    # someone points @production at version 2 by hand (never submitted to canarykit)
    n2 = cli.sources["v2"].rsplit("/", 1)[1]
    client.set_registered_model_alias(name, "production", n2)
    code, out, _ = cli("mlflow", "verify", MODEL, "--format", "json", actor=None)
    assert code == 20
    report = json.loads(out)
    assert report["ok"] is False
    assert [d["subject"] for d in report["differences"]] == ["@production"]
    assert report["differences"][0]["found"] == n2
    code, out, _ = cli(*startup)
    assert code == 20
    assert f"FAIL {MODEL} v1 (production): mlflow: drift: @production of MLflow model" in out
    assert "runbook: MLflow was changed outside canarykit" in out

    code, out, err = cli("mlflow", "sync", MODEL)
    assert code == 0, err
    assert f"applied: @production → version {n1}" in out
    assert client.get_registered_model(name).aliases == {"production": n1}
    code, out, _ = cli("mlflow", "sync", MODEL, "--format", "json")
    assert (code, json.loads(out)["applied"]) == (0, [])  # idempotent
    assert cli(*startup)[0] == 0
    with Promotion(cli.registry, create=False) as promotion:
        synced = promotion.events(kind="mlflow_mirror")
    assert len(synced) == 1  # the sync that changed something; the idempotent one wrote nothing
    assert synced[0].payload["applied"] == [f"@production → version {n1}"]
    assert synced[0].payload["trigger"] == "mlflow sync"


def test_bad_input_and_an_unreachable_mlflow_are_one_line(
    setup: tuple[MlflowCli, Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli, _, name = setup
    for bad in (f"models:/{name}@champion", "s3://bucket/model"):
        code, out, err = cli("submit", MODEL, "v1", "--from-mlflow", bad, actor="ann")
        assert (code, out) == (2, "")
        assert err.count("\n") == 1
        assert "--from-mlflow:" in err
        assert "must be models:/NAME/N" in err
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{sock.getsockname()[1]}"
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    code, out, err = cli(
        *("submit", MODEL, "v1", "--from-mlflow", cli.sources["v1"], "--mlflow-uri", down),
        actor="ann",
    )
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert "cannot connect" in err
    code, _, err = cli("mlflow", "verify", MODEL, actor=None)
    assert code == 2
    assert "no version of risk-default was submitted from MLflow" in err

    # the decision stands when MLflow is down after the submission
    assert cli("submit", MODEL, "v1", "--from-mlflow", cli.sources["v1"], actor="ann")[0] == 0
    monkeypatch.setenv("MLFLOW_TRACKING_URI", down)
    approve = ("approve", MODEL, "v1", "--role", "security", "--stage", "Staging")
    code, out, err = cli(*approve, actor="sam")
    assert code == 0, err  # approvals are not mirrored: nothing to warn about
    code, out, err = cli("revoke", MODEL, "v1", "--reason", "test", actor="sam")
    assert code == 0, err
    assert "revoke risk-default v1 stands, but its MLflow mirror failed" in err
    assert err.count("\n") == 1
    code, out, _ = cli("mlflow", "verify", MODEL, actor=None)
    assert code == 20
    assert "ERROR" in out
