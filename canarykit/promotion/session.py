"""The shared core of the Python API: one registry connection, one clock, one action runner.

Every action runs in one ``BEGIN IMMEDIATE`` transaction: read state, compute facts, ask the
gate, then write the change and its audit event — or, when the gate refuses, roll back to a
savepoint taken before any write, append a ``gate_denied`` event, commit that, and raise
:class:`~canarykit.promotion.gates.GateDenial` (a :class:`~canarykit.errors.GateDeniedError`)
listing the reasons. There is no "force" flag and no way to pass a different gate policy.

Examples
--------
>>> s = Session(":memory:")
>>> s.store.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
0
>>> check_actor("ann o'neil")
Traceback (most recent call last):
...
canarykit.errors.InvalidInputError: actor: "ann o'neil" must be an identity (letters, ...)
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self, TypeVar

from canarykit.errors import InvalidInputError, StorageError
from canarykit.promotion import facts as F
from canarykit.promotion.approvals import IDENTITY, person_key
from canarykit.promotion.audit import EVENT_CONTEXT, append_event
from canarykit.promotion.clock import Clock, SystemClock, future_problem
from canarykit.promotion.documents import check_depth, load_document_file
from canarykit.promotion.drill import init_registry, is_drill
from canarykit.promotion.gates import GateDecision, GateDenial, evaluate_gate, prepare_gates
from canarykit.promotion.registry import RegistryStore

__all__ = [
    "DEFAULT_ALIAS",
    "DEFAULT_REGISTRY",
    "REGISTRY_ENV",
    "Session",
    "check_actor",
    "default_registry",
    "load_document",
]

REGISTRY_ENV = "CANARYKIT_REGISTRY"
DEFAULT_REGISTRY = "canarykit-registry.sqlite"
DEFAULT_ALIAS = "production"
T = TypeVar("T")
_MIRRORED = ("submit", "promote", "alias", "rollback", "revoke", "release")
"""Actions (first word) whose outcome is mirrored into MLflow for models submitted from it."""
_LOG = logging.getLogger("canarykit.mlflow")


def default_registry() -> str:
    """``$CANARYKIT_REGISTRY`` or ``canarykit-registry.sqlite`` in the working folder."""
    return os.environ.get(REGISTRY_ENV) or DEFAULT_REGISTRY


def check_actor(actor: str) -> str:
    """The identity ``actor`` names, as it is recorded and compared (:func:`person_key`).

    People are the same person when their names agree after Unicode NFKC and case folding
    (DESIGN.md §10), so every action records the folded form: ``Ann`` and ``ann`` cannot
    approve each other's work.

    Raises
    ------
    InvalidInputError
        ``actor`` is not an identity (1-128 letters, digits or ``._@+-``).

    Examples
    --------
    >>> check_actor("Ann")
    'ann'
    """
    key = person_key(actor) if isinstance(actor, str) else None
    if key is None or not IDENTITY.fullmatch(key):
        raise InvalidInputError(f"actor: {actor!r} must be an identity (letters, digits, ._@+-)")
    return key


def load_document(source: Any, what: str) -> Any:
    """A JSON/YAML file by path, or the document itself (its nesting bounded either way).

    Raises
    ------
    InvalidInputError
        The file cannot be read, is not UTF-8 JSON/YAML, or nests too deeply (one line naming
        the file and the rule; see :mod:`canarykit.promotion.documents`).
    """
    if isinstance(source, (str, Path)):
        return load_document_file(source, what=what)
    return check_depth(source, where=what)


class Session:
    """Registry connection, clock and the action runner shared by the API classes.

    Parameters
    ----------
    registry : str or Path, optional
        The SQLite registry file (created if missing); default :func:`default_registry`.
    clock : Clock, optional
        Source of "now" for every gate and event; default the system clock. Only a drill
        registry takes any time it is given; elsewhere no event may be dated more than 5
        minutes away from :attr:`wall_clock`, ahead or behind (:mod:`~canarykit.promotion.drill`).
    create : bool, default True
        Create the registry file when it does not exist (False: raise StorageError).
    drill : bool, default False
        Make a new registry a drill registry (its first audit event says so; see
        :meth:`init_registry`). A registry that is already a drill stays one either way.

    Attributes
    ----------
    wall_clock : Clock
        The clock the time rule compares ``clock`` with: the system clock (a test that
        simulates a world at a fixed time sets it to that world's clock).
    mlflow_uri : str or None
        The MLflow tracking URI the mirror writes to (None: ``$MLFLOW_TRACKING_URI``, else the
        one recorded at submission; :mod:`canarykit.integrations.mlflow`).
    mirror_warn : callable or None
        Where a failed mirror's one warning line goes (None: the ``canarykit.mlflow`` logger;
        the CLI prints it on stderr).
    mirror_reports : list
        The :class:`~canarykit.integrations.mlflow.mirror.MirrorReport` of each mirror run by
        this session, oldest first.
    """

    def __init__(
        self,
        registry: str | Path | None = None,
        *,
        clock: Clock | None = None,
        create: bool = True,
        drill: bool = False,
    ) -> None:
        path = default_registry() if registry is None else registry
        if not create and str(path) != ":memory:" and not Path(path).exists():
            raise StorageError(
                f"{path}: registry does not exist (create it with `canarykit config set-roster`,"
                " or set --registry / $CANARYKIT_REGISTRY)"
            )
        self.store = RegistryStore(path)
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.wall_clock: Clock = SystemClock()
        self.mlflow_uri: str | None = None
        self.mirror_warn: Callable[[str], None] | None = None
        self.mirror_reports: list[Any] = []
        if drill and not self.drill:
            try:
                self.init_registry(actor="canarykit", drill=True)
            except BaseException:
                self.store.close()
                raise

    @property
    def drill(self) -> bool:
        """Whether this is a drill registry (:func:`~canarykit.promotion.drill.is_drill`)."""
        return is_drill(self.store.conn)

    def init_registry(self, *, actor: str, drill: bool) -> bool:
        """Write the registry's first audit event: a drill registry, or a production one.

        Parameters
        ----------
        actor : str
            Who creates the registry.
        drill : bool
            Mark it a drill registry (fixed clocks, plain verdicts and unsigned acts allowed,
            DRILL in every output, refused by ``check-startup``).

        Returns
        -------
        bool
            Whether the registry is a drill registry.

        Raises
        ------
        InvalidInputError
            The registry already holds audit events: it was created before, as a drill or not.
        """
        actor = check_actor(actor)
        with self.store.transaction() as conn:
            init_registry(conn, drill=drill, actor=actor, now_ns=self.clock.now_ns())
        return self.drill

    def close(self) -> None:
        """Close the registry connection."""
        self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the one way every action runs ---------------------------------------------------------
    def _run(
        self,
        *,
        action: str,
        actor: str,
        body: Callable[[sqlite3.Connection, int], T],
        model: str | None = None,
        version: str | None = None,
        chg_id: str | None = None,
    ) -> T:
        check_actor(actor)
        prepare_gates()  # compile the gate policies before the write lock, not while holding it
        with self._event_context():
            result = self._transact(action, actor, body, model, version, chg_id)
        if isinstance(result, GateDenial):
            raise result
        if model is not None and action.split(" ", 1)[0] in _MIRRORED:
            self._mirror(model, actor=check_actor(actor), action=action)
        return result

    def _mirror(self, model: str, *, actor: str, action: str) -> None:
        """Mirror ``model`` into MLflow after a committed action, when any of its versions
        was submitted from MLflow (:mod:`canarykit.integrations.mlflow`); never from a drill
        registry. Never raises: the decision stands whatever MLflow does; a failure is a
        warning and an audit event."""
        linked = self.store.conn.execute(
            "SELECT 1 FROM events WHERE model = ? AND kind = 'submission'"
            " AND json_extract(payload_json, '$.origin.mlflow') IS NOT NULL LIMIT 1",
            (model,),
        ).fetchone()
        if linked is None:
            return
        if self.drill:  # a rehearsal must never move a real MLflow alias
            (self.mirror_warn or _LOG.warning)(
                f"canarykit: DRILL registry: {action} is not mirrored into MLflow"
            )
            return
        from canarykit.integrations.mlflow.after_action import mirror_after_action

        report: Any
        try:
            report = mirror_after_action(
                self, model, actor=actor, action=action, uri=self.mlflow_uri, warn=self.mirror_warn
            )
        except Exception as err:  # a bug in the mirror must not turn a decision into an error
            report = f"{action}: MLflow mirror failed ({type(err).__name__}: {err})"
            (self.mirror_warn or _LOG.warning)(f"canarykit: warning: {report}")
        self.mirror_reports.append(report)

    @contextmanager
    def _event_context(self) -> Iterator[None]:
        """Every event written under an injected clock says so (``payload.clock``), and every
        event of a drill registry says ``"drill": true``."""
        context: dict[str, Any] | None = (
            None if isinstance(self.clock, SystemClock) else {"clock": repr(self.clock)}
        )
        if self.drill:
            context = {**(context or {}), "drill": True}
        token = EVENT_CONTEXT.set(context)
        try:
            yield
        finally:
            EVENT_CONTEXT.reset(token)

    def _transact(
        self,
        action: str,
        actor: str,
        body: Callable[[sqlite3.Connection, int], T],
        model: str | None,
        version: str | None,
        chg_id: str | None,
    ) -> T | GateDenial:
        denial: GateDenial | None = None
        with self.store.transaction() as conn:
            now = self.clock.now_ns()
            off_clock = None if is_drill(conn) else future_problem(now, self.wall_clock.now_ns())
            conn.execute("SAVEPOINT action")
            try:
                if off_clock is not None:  # refused before any write; the denial gets the wall time
                    raise GateDenial(action, [off_clock])
                result = body(conn, now)
            except GateDenial as err:
                conn.execute("ROLLBACK TO action")
                append_event(
                    conn,
                    kind="gate_denied",
                    actor=actor,
                    time_ns=now if off_clock is None else self.wall_clock.now_ns(),
                    model=model,
                    version=version,
                    chg_id=chg_id,
                    payload={"action": action, "reasons": list(err.reasons)},
                )
                denial = err
            conn.execute("RELEASE action")
        return denial if denial is not None else result

    def _gate(self, gate: str, action: str, facts: Mapping[str, Any]) -> GateDecision:
        decision = evaluate_gate(gate, facts)
        if not decision.allow:
            raise GateDenial(action, decision.reasons)
        return decision

    def _base_facts(self, conn: sqlite3.Connection, now: int, actor: str) -> dict[str, Any]:
        return {
            "now_ns": now,
            "actor": actor,
            "clock": F.clock_facts(conn, now_ns=now, wall_ns=self.wall_clock.now_ns()),
            "audit": F.audit_facts(conn),
        }

    def _require_roles(
        self, conn: sqlite3.Connection, actor: str, roles: Sequence[str], action: str
    ) -> None:
        roster = F.load_roster(conn)
        if roster is None:
            raise GateDenial(action, ["roster: no roster configured (canarykit config set-roster)"])
        if not set(roles) & set(roster.roles_of(actor)):
            raise GateDenial(
                action, [f"roster: {actor} holds none of the roles {', '.join(roles)}"]
            )
