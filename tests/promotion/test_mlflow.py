"""canarykit as the gatekeeper of an MLflow Model Registry (issue 18), against a real MLflow
tracking server (``mlflow_server``, one per session, SQLite backend store).

Each test registers its own MLflow model (a unique name) with real files logged through the
server, submits versions with ``--from-mlflow`` and reads back what MLflow shows.
"""

from __future__ import annotations

import json
import shutil
import socket
import uuid
from pathlib import Path
from typing import Any

import pytest
from promotion_world import MODEL, World, pem, person_private_key

from canarykit.dashboard.data import governance
from canarykit.dashboard.server import Dashboard
from canarykit.errors import GateDeniedError, InvalidInputError
from canarykit.integrations.mlflow import (
    MlflowUnavailableError,
    after_action,
    desired_state,
    submit_from_mlflow,
    sync,
    verify,
)
from canarykit.integrations.mlflow.after_action import pending_failure, sync_model
from canarykit.promotion.artifacts import digest_artifact
from canarykit.promotion.evidence import sign_digest


# -- MLflow side helpers ---------------------------------------------------------------------
@pytest.fixture
def ml(mlflow_server: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A client of the test server; ``$MLFLOW_TRACKING_URI`` points at it."""
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    return MlflowClient(tracking_uri=mlflow_server, registry_uri=mlflow_server)


def model_files(tmp: Path, version: str) -> Path:
    """An MLflow-style model folder whose bytes differ per version."""
    folder = tmp / f"mlflow-model-{version}"
    (folder / "data").mkdir(parents=True, exist_ok=True)
    (folder / "MLmodel").write_text(f"artifact_path: model\nflavors: {{}}\n# {version}\n")
    (folder / "data" / "model.bin").write_bytes(f"weights of {version}".encode() * 100)
    return folder


def register(client: Any, name: str, folder: Path) -> str:
    """Log ``folder`` as a run's ``model`` artifacts and register it as a version of ``name``."""
    if not client.search_registered_models(filter_string=f"name = '{name}'"):
        client.create_registered_model(name)
    run = client.create_run("0")
    client.log_artifacts(run.info.run_id, str(folder), "model")
    client.set_terminated(run.info.run_id)
    created = client.create_model_version(
        name, source=f"runs:/{run.info.run_id}/model", run_id=run.info.run_id
    )
    return str(created.version)


def tags(client: Any, name: str, number: str) -> dict[str, str]:
    return {
        k: v
        for k, v in client.get_model_version(name, number).tags.items()
        if k.startswith("canarykit.")
    }


def aliases(client: Any, name: str) -> dict[str, str]:
    return {a: str(n) for a, n in client.get_registered_model(name).aliases.items()}


def unique_name() -> str:
    return f"risk-default-{uuid.uuid4().hex[:10]}"


def submit(world: World, version: str, source: str, *, actor: str = "ann") -> Any:
    return submit_from_mlflow(
        world.promotion,
        MODEL,
        version,
        source=source,
        actor=actor,
        key=person_private_key(actor),
    )


def approve_from_mlflow(world: World, version: str, folder: Path, chg: str) -> None:
    """Staging (signatures over the folder digest) → approvals → Approved."""
    digest = digest_artifact(folder)
    world.to_staging(
        version,
        signatures=[sign_digest(world.key, "release-key", digest)],
        attestation=world.envelope(version, subject_digest=digest.removeprefix("sha256:")),
        artifact=folder,
    )
    world.approvals(version)
    world.to_approved(version, world.chg(chg, [version]))


def closed_port_uri() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# -- the mirror ------------------------------------------------------------------------------
def test_every_decision_is_mirrored_into_mlflow(world: World, ml: Any) -> None:
    p = world.promotion
    name = unique_name()
    v1_files, v2_files = model_files(world.tmp, "v1"), model_files(world.tmp, "v2")
    n1, n2 = register(ml, name, v1_files), register(ml, name, v2_files)

    record = submit(world, "v1", f"models:/{name}/{n1}")
    assert record.artifact_digest == digest_artifact(v1_files)  # the downloaded bytes
    assert tags(ml, name, n1) == {
        "canarykit.model": MODEL,
        "canarykit.version": "v1",
        "canarykit.stage": "Candidate",
        "canarykit.artifact_digest": record.artifact_digest,
    }
    approve_from_mlflow(world, "v1", v1_files, "CHG-1")
    shown = tags(ml, name, n1)
    assert shown["canarykit.stage"] == "Approved"
    assert shown["canarykit.policy_digest"] == world.policy_digest
    assert shown["canarykit.chg_id"] == "CHG-1"
    assert shown["canarykit.approvers"] == "product:pat,security:sue"
    assert shown["canarykit.verdict_digest"].startswith("sha256:")
    assert aliases(ml, name) == {}

    std = world.chg("CHG-9", ["v1", "v2"], type="Standard")
    p.set_alias(MODEL, "v1", expected=None, actor="olga", chg_id=std)
    assert aliases(ml, name) == {"production": n1}

    submit(world, "v2", f"models:/{name}/{n2}")
    approve_from_mlflow(world, "v2", v2_files, "CHG-2")
    p.set_alias(MODEL, "v2", expected="v1", actor="olga", chg_id=std)
    assert aliases(ml, name) == {"production": n2}

    p.rollback(MODEL, actor="olga", chg_id=std)
    assert aliases(ml, name) == {"production": n1}

    again = world.chg("CHG-10", ["v2"], type="Standard")
    p.set_alias(MODEL, "v2", expected="v1", actor="olga", chg_id=again)
    assert aliases(ml, name) == {"production": n2}
    p.revoke(MODEL, "v2", actor="sam", reason="leaks labels", key=person_private_key("sam"))
    assert aliases(ml, name) == {"production": n1}  # the revocation rolled the alias back
    assert tags(ml, name, n2)["canarykit.stage"] == "Revoked"

    result = p.release(
        MODEL,
        "v1",
        out=world.tmp / "release-v1",
        signing_key=pem(world.key, world.tmp / "k.pem"),
        key_id="release-key",
        actor="olga",
    )
    assert tags(ml, name, n1)["canarykit.release"] == result.manifest_digest
    description = ml.get_model_version(name, n1).description
    assert "risk-default v1 is Approved" in description
    assert result.manifest_digest in description

    assert all(r.ok for r in p.mirror_reports), [r.to_dict() for r in p.mirror_reports]
    assert verify(desired_state(p.store.conn, MODEL)).ok
    again = sync(desired_state(p.store.conn, MODEL))
    assert (again.ok, again.applied) == (True, ())  # idempotent: nothing left to write
    # a folder artifact starts: --artifact on the model folder is the --from-mlflow digest
    check = p.check_startup(
        MODEL, policy_digest=world.policy_digest, artifact=v1_files, mlflow=True
    )
    assert (check.ok, check.exit_code) == (True, 0), check.problems
    swapped = world.tmp / "swapped"  # the files in MLflow's store replaced after submission
    shutil.copytree(v1_files, swapped)
    (swapped / "data" / "model.bin").write_bytes(b"other weights")
    check = p.check_startup(MODEL, policy_digest=world.policy_digest, artifact=swapped)
    assert (check.ok, check.exit_code) == (False, 13)
    assert p.audit_verify().ok


def test_a_revocation_without_a_previous_version_removes_the_alias(world: World, ml: Any) -> None:
    p = world.promotion
    name = unique_name()
    files = model_files(world.tmp, "v1")
    n1 = register(ml, name, files)
    submit(world, "v1", f"models:/{name}/{n1}")
    approve_from_mlflow(world, "v1", files, "CHG-1")
    p.set_alias(MODEL, "v1", expected=None, actor="olga", chg_id=world.chg("CHG-2", ["v1"]))
    assert aliases(ml, name) == {"production": n1}
    p.revoke(MODEL, "v1", actor="sam", reason="bad", key=person_private_key("sam"))
    assert aliases(ml, name) == {}  # BLOCKED in canarykit: no @production in MLflow
    assert tags(ml, name, n1)["canarykit.stage"] == "Revoked"
    assert verify(desired_state(p.store.conn, MODEL)).ok


def test_drift_is_named_fails_startup_with_20_and_sync_repairs_it(world: World, ml: Any) -> None:
    p = world.promotion
    name = unique_name()
    v1_files, v2_files = model_files(world.tmp, "v1"), model_files(world.tmp, "v2")
    n1, n2 = register(ml, name, v1_files), register(ml, name, v2_files)
    n3 = register(ml, name, model_files(world.tmp, "v3"))  # never submitted to canarykit
    submit(world, "v1", f"models:/{name}/{n1}")
    approve_from_mlflow(world, "v1", v1_files, "CHG-1")
    p.set_alias(MODEL, "v1", expected=None, actor="olga", chg_id=world.chg("CHG-3", ["v1"]))
    submit(world, "v2", f"models:/{name}/{n2}")  # a Candidate
    assert verify(desired_state(p.store.conn, MODEL)).ok

    # someone moves @production by hand to the Candidate, and tags an unknown version
    ml.set_registered_model_alias(name, "production", n2)
    ml.set_model_version_tag(name, n3, "canarykit.stage", "Approved")
    ml.delete_model_version_tag(name, n1, "canarykit.chg_id")

    report = verify(desired_state(p.store.conn, MODEL))
    assert not report.ok
    messages = [d.message for d in report.differences]
    assert messages == [
        f"@production of MLflow model {name} points to version {n2}; canarykit says version"
        f" {n1} (risk-default v1)",
        f"version {n1} of {name}: tag canarykit.chg_id is missing; canarykit says 'CHG-1'",
        f"version {n3} of {name}: tag canarykit.stage='Approved' was not set by canarykit (not"
        " a canarykit version)",
    ]
    shown = governance(world.tmp / "registry.sqlite", MODEL, mlflow=True)["mlflow"]
    assert (shown["ok"], shown["differences"]) == (False, messages)  # the dashboard shows it
    page = Dashboard(world.tmp / "none.duckdb", world.tmp / "registry.sqlite", mlflow=True)
    status, _, body = page.route("/api/governance", {"model": [MODEL]})  # serve --mlflow
    assert (status, json.loads(body)["mlflow"]["differences"]) == (200, messages)
    assert "MLflow differs from canarykit" in page.page()
    check = p.check_startup(
        MODEL, policy_digest=world.policy_digest, artifact=v1_files, mlflow=True
    )
    assert (check.ok, check.exit_code) == (False, 20)
    assert check.problems[0].startswith(f"mlflow: drift: @production of MLflow model {name}")
    assert "canarykit mlflow sync" in check.hint
    assert p.events()[-1].kind == "gate_denied"
    # without --mlflow the startup check does not read MLflow (and canarykit's state is fine)
    plain = p.check_startup(MODEL, policy_digest=world.policy_digest, artifact=v1_files)
    assert (plain.ok, plain.exit_code) == (True, 0)

    repaired = sync(desired_state(p.store.conn, MODEL))
    assert repaired.ok
    assert len(repaired.applied) == 3
    assert aliases(ml, name) == {"production": n1}
    assert tags(ml, name, n3) == {}
    assert tags(ml, name, n1)["canarykit.chg_id"] == "CHG-1"
    check = p.check_startup(
        MODEL, policy_digest=world.policy_digest, artifact=v1_files, mlflow=True
    )
    assert (check.ok, check.exit_code) == (True, 0)


def test_an_approved_tag_set_in_mlflow_makes_canarykit_believe_nothing(
    world: World, ml: Any
) -> None:
    p = world.promotion
    name = unique_name()
    files = model_files(world.tmp, "v1")
    n1 = register(ml, name, files)
    # before the submission: tags claiming another digest and an approval
    ml.set_model_version_tag(name, n1, "canarykit.artifact_digest", "sha256:" + "0" * 64)
    ml.set_model_version_tag(name, n1, "canarykit.stage", "Approved")
    record = submit(world, "v1", f"models:/{name}/{n1}")
    assert record.artifact_digest == digest_artifact(files) != "sha256:" + "0" * 64
    assert tags(ml, name, n1)["canarykit.stage"] == "Candidate"  # the mirror overwrote it

    # after: tag it Approved again and set @production by hand
    ml.set_model_version_tag(name, n1, "canarykit.stage", "Approved")
    ml.set_registered_model_alias(name, "production", n1)
    assert p.version(MODEL, "v1").stage == "Candidate"
    assert desired_state(p.store.conn, MODEL).by_number()[n1].tags["canarykit.stage"] == (
        "Candidate"
    )
    with pytest.raises(GateDeniedError):
        p.set_alias(MODEL, "v1", expected=None, actor="olga", chg_id=world.chg("CHG-1", ["v1"]))
    startup = p.check_startup(
        MODEL, version="v1", alias=None, policy_digest=world.policy_digest, artifact=files
    )
    assert (startup.ok, startup.exit_code) == (False, 12)  # still a Candidate
    via_alias = p.check_startup(MODEL, policy_digest=world.policy_digest, artifact=files)
    assert via_alias.exit_code == 10  # canarykit's production alias was never set
    found = {d.subject for d in verify(desired_state(p.store.conn, MODEL)).differences}
    assert found == {"@production", f"version {n1} canarykit.stage"}


def test_an_unreachable_mlflow_never_undoes_a_decision_and_sync_fixes_it(
    world: World, ml: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(after_action, "RETRY_DELAYS", (0.0, 0.0))
    p = world.promotion
    name = unique_name()
    files = model_files(world.tmp, "v1")
    n1 = register(ml, name, files)
    submit(world, "v1", f"models:/{name}/{n1}")
    warnings: list[str] = []
    p.mirror_warn = warnings.append
    p.mlflow_uri = closed_port_uri()  # MLflow is down
    digest = digest_artifact(files)
    staged = world.to_staging(
        "v1",
        signatures=[sign_digest(world.key, "release-key", digest)],
        attestation=world.envelope("v1", subject_digest=digest.removeprefix("sha256:")),
        artifact=files,
    )
    assert staged.to_stage == "Staging"  # the decision stands
    assert p.version(MODEL, "v1").stage == "Staging"
    assert len(warnings) == 1
    assert "promote risk-default v1 → Staging stands, but its MLflow mirror failed" in warnings[0]
    assert "canarykit mlflow sync risk-default" in warnings[0]
    event = p.events()[-1]
    assert (event.kind, event.payload["ok"]) == ("mlflow_mirror", False)
    assert "cannot connect" in event.payload["error"]
    assert pending_failure(p, MODEL) is not None
    shown = governance(world.tmp / "registry.sqlite", MODEL)["mlflow"]
    assert shown["pending"]["seq"] == event.seq  # the dashboard shows the pending mirror
    assert shown["checked"] is False
    assert tags(ml, name, n1)["canarykit.stage"] == "Candidate"  # MLflow is behind
    down = verify(desired_state(p.store.conn, MODEL), uri=p.mlflow_uri)
    assert not down.ok
    assert down.error is not None
    assert "cannot connect" in down.error
    assert p.audit_verify().ok

    # MLflow is back ($MLFLOW_TRACKING_URI): canarykit mlflow sync
    fixed = sync_model(p, MODEL, actor="olga", uri=ml.tracking_uri)
    assert fixed.ok
    assert f"version {n1}: canarykit.stage=Staging" in fixed.applied
    assert tags(ml, name, n1)["canarykit.stage"] == "Staging"
    assert pending_failure(p, MODEL) is None
    event = p.events()[-1]
    assert (event.kind, event.payload["ok"], event.payload["trigger"]) == (
        "mlflow_mirror",
        True,
        "mlflow sync",
    )
    assert governance(world.tmp / "registry.sqlite", MODEL)["mlflow"]["pending"] is None


def test_from_mlflow_refusals(world: World, ml: Any) -> None:
    name = unique_name()
    n1 = register(ml, name, model_files(world.tmp, "v1"))
    for bad in ("models:/x@champion", f"models:/{name}/latest", "runs:/abc/model", "models:/x"):
        with pytest.raises(InvalidInputError, match="must be models:/NAME/N"):
            submit(world, "v1", bad)
    with pytest.raises(MlflowUnavailableError, match=r"mlflow: read models:/.*not found"):
        submit(world, "v1", f"models:/{name}/{int(n1) + 5}")  # no such version
    assert world.promotion.events(kind="submission") == []
    submit(world, "v1", f"models:/{name}/{n1}")
    with pytest.raises(InvalidInputError, match="was submitted already as risk-default v1"):
        submit(world, "v2", f"models:/{name}/{n1}")
    other = unique_name()
    m1 = register(ml, other, model_files(world.tmp, "v2"))
    with pytest.raises(InvalidInputError, match="belongs to another registered model"):
        submit(world, "v2", f"models:/{other}/{m1}")


def test_the_mirror_follows_the_verified_log_not_the_tables(world: World, ml: Any) -> None:
    p = world.promotion
    name = unique_name()
    files = model_files(world.tmp, "v1")
    n1 = register(ml, name, files)
    submit(world, "v1", f"models:/{name}/{n1}")
    # a versions row edited by SQL says Approved; the verified log says Candidate
    p.store.conn.execute("DROP TRIGGER IF EXISTS versions_no_update")
    p.store.conn.execute(
        "UPDATE versions SET stage = 'Approved' WHERE model = ? AND version = 'v1'", (MODEL,)
    )
    p.store.conn.commit()
    assert p.version(MODEL, "v1").stage == "Approved"  # the table row lies
    desired = desired_state(p.store.conn, MODEL)
    assert desired.by_number()[n1].tags["canarykit.stage"] == "Candidate"
    report = sync(desired)
    assert report.ok
    assert report.applied == ()
    assert json.loads(json.dumps(report.to_dict()))["registered_model"] == name


def test_a_drill_registry_is_never_mirrored(tmp_path: Path, ml: Any) -> None:
    from promotion_world import make_world

    from canarykit.integrations.mlflow.after_action import sync_model

    with make_world(tmp_path, drill=True) as world:
        p = world.promotion
        name = unique_name()
        n1 = register(ml, name, model_files(tmp_path, "v1"))
        warnings: list[str] = []
        p.mirror_warn = warnings.append
        submit(world, "v1", f"models:/{name}/{n1}")  # reading MLflow is fine
        assert warnings == [
            "canarykit: DRILL registry: submit risk-default v1 is not mirrored into MLflow"
        ]
        assert tags(ml, name, n1) == {}
        with pytest.raises(InvalidInputError, match="a drill registry is never mirrored"):
            sync_model(p, MODEL, actor="olga")
        assert not verify(desired_state(p.store.conn, MODEL)).ok  # MLflow lacks the tags
