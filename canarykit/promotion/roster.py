"""People: who they are, which roles they hold and which keys sign their acts.

The roster is the registry's list of people (DESIGN.md §10, "person X approves in role R")::

    people:
      sam:                         # a name: 1-128 letters, digits or ._@+- (no spaces, no controls)
        roles: [security]          # security, product, operations, executive
        keys:                      # Ed25519 public keys that sign sam's acts
          - "<base64 of the 32 raw public-key bytes, or PEM text>"
      ann: [product]               # the old list form: roles only, no key

Names are compared after Unicode NFKC and case folding (:func:`person_key`): ``Ann``, ``ANN``
and full-width ``ａｎｎ`` are one person, so a roster listing two of them is refused, and so is
one key listed for two people. A person of the old list form has no key, so none of their acts
can be signed: only a *drill* registry accepts their acts unsigned
(:mod:`canarykit.promotion.acts`).

Examples
--------
>>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
>>> from canarykit.promotion.evidence import public_key_text
>>> pub = public_key_text(Ed25519PrivateKey.generate())
>>> roster = Roster.from_dict({"people": {"Sam": {"roles": ["security"], "keys": [pub]},
...                                       "ann": ["product"]}})
>>> roster.roles_of("SAM"), roster.keys_of("sam") == (pub,), roster.keys_of("ann")
(('security',), True, ())
>>> roster.member("ann@corp.example")
False
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from canarykit.errors import InvalidInputError

__all__ = [
    "IDENTITY",
    "ROLES",
    "Roster",
    "check_identity",
    "key_fingerprint",
    "normalize_public_key",
    "person_key",
    "same_person",
]

ROLES = ("security", "product", "operations", "executive")

#: An identity, as ``--actor`` names it and the roster lists it (after :func:`person_key`).
IDENTITY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")
_MAX_NAME = 256  # characters of the raw text looked at, before normalisation
_MAX_KEYS = 16  # keys per person


def person_key(name: str) -> str:
    """How the names of people are compared: Unicode NFKC, then case folding.

    Two names with the same key are the same person everywhere — on the roster, in four-eyes
    and separation-of-duties checks, for CAB independence (DESIGN.md §10).

    Examples
    --------
    >>> person_key("Ann") == person_key("ann") == person_key("\uff41\uff4e\uff4e")  # full-width
    True
    """
    return unicodedata.normalize("NFKC", name).casefold()


def check_identity(name: Any, *, where: str = "actor") -> str:
    """The :func:`person_key` of ``name`` if it is a valid identity, else raise.

    A valid identity is 1-128 characters after normalisation, letters, digits or ``._@+-``,
    starting with a letter or digit: no spaces, no control or format characters, no
    look-alike punctuation.

    Raises
    ------
    InvalidInputError
        ``name`` is not text, too long, or not an identity (the message names ``where``).

    Examples
    --------
    >>> check_identity("ANN")
    'ann'
    >>> check_identity("ann\\u202e")
    Traceback (most recent call last):
    ...
    canarykit.errors.InvalidInputError: actor: 'ann\\u202e' must be an identity (1-128 letters, ...
    """
    key = person_key(name) if isinstance(name, str) and len(name) <= _MAX_NAME else None
    if key is None or not IDENTITY.fullmatch(key):
        shown = repr(name[:80]) if isinstance(name, str) else type(name).__name__
        raise InvalidInputError(
            f"{where}: {shown} must be an identity (1-128 letters, digits or ._@+-, no spaces"
            " or control characters)"
        )
    return key


def same_person(a: str, b: str) -> bool:
    """Whether two names are the same person (:func:`person_key` equal).

    Examples
    --------
    >>> same_person("Olga", "OLGA"), same_person("olga", "olga@corp.example")
    (True, False)
    """
    return person_key(a) == person_key(b)


def normalize_public_key(text: Any, *, where: str = "key") -> str:
    """An Ed25519 public key (base64 of its 32 raw bytes, or PEM text) as base64 raw bytes.

    Raises
    ------
    InvalidInputError
        The text is not an Ed25519 public key.

    Examples
    --------
    >>> normalize_public_key("A" * 43 + "=")[:8]
    'AAAAAAAA'
    >>> normalize_public_key("not a key")
    Traceback (most recent call last):
    ...
    canarykit.errors.InvalidInputError: key: not a base64 raw Ed25519 public key (32 bytes) or PEM text
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError(f"{where}: must be a base64 raw Ed25519 public key or PEM text")
    stripped = text.strip()
    try:
        if stripped.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(stripped.encode("ascii"))
            if not isinstance(key, Ed25519PublicKey):
                raise InvalidInputError(f"{where}: PEM key is not an Ed25519 public key")
        else:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(stripped, validate=True))
    except (ValueError, binascii.Error, UnicodeEncodeError):
        raise InvalidInputError(
            f"{where}: not a base64 raw Ed25519 public key (32 bytes) or PEM text"
        ) from None
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def key_fingerprint(public_key: str) -> str:
    """``"sha256:<hex>"`` of a normalised public key's raw bytes: how acts name their key.

    Examples
    --------
    >>> key_fingerprint("A" * 43 + "=")[:15]
    'sha256:66687aad'
    """
    return "sha256:" + hashlib.sha256(base64.b64decode(public_key)).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class Roster:
    """Who holds which role, and the keys that sign their acts, keyed by :func:`person_key`.

    Every name must be an identity (what ``--actor`` accepts); two names that are the same
    person after Unicode NFKC and case folding (``Ann``, ``ann``) are refused as a duplicate,
    and so is a key listed twice (one key, one person).

    Examples
    --------
    >>> Roster.from_dict({"people": {"a": ["boss"]}})
    Traceback (most recent call last):
    ...
    canarykit.errors.InvalidInputError: roster: people.a[0]: 'boss' is not a role (security, ...
    >>> Roster.from_dict({"people": {"Ann": ["product"], "ann": ["security"]}})
    Traceback (most recent call last):
    ...
    canarykit.errors.InvalidInputError: roster: people: 'Ann' and 'ann' are the same person ...
    >>> Roster.from_dict({"people": {"Ann": ["product"]}}).roles_of("ANN")
    ('product',)
    """

    people: Mapping[str, tuple[str, ...]]
    keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "roster") -> Roster:
        """Validate a roster document, collecting every field error."""
        people = data.get("people") if isinstance(data, Mapping) else None
        if not isinstance(people, Mapping) or not people:
            raise InvalidInputError(f"{source}: people: must be a non-empty mapping name → roles")
        errors: list[str] = []
        roles_by: dict[str, tuple[str, ...]] = {}
        keys_by: dict[str, tuple[str, ...]] = {}
        written: dict[str, str] = {}
        owner_of: dict[str, str] = {}
        for name, entry in people.items():
            person = _roster_name(name, errors)
            if person is None:
                continue
            if person in written:
                errors.append(
                    f"people: {written[person]!r} and {name!r} are the same person (names are"
                    " compared after Unicode NFKC and case folding)"
                )
                continue
            written[person] = name
            roles, keys = _entry(entry, f"people.{name}", errors)
            if roles is None:
                continue
            for index, role in enumerate(roles):
                if role not in ROLES:
                    errors.append(
                        f"people.{name}[{index}]: {str(role)[:40]!r} is not a role"
                        f" ({', '.join(ROLES)})"
                    )
            roles_by[person] = tuple(sorted(str(r) for r in roles))
            own: list[str] = []
            for index, text in enumerate(keys):
                where = f"people.{name}.keys[{index}]"
                try:
                    key = normalize_public_key(text, where=where)
                except InvalidInputError as err:
                    errors.append(str(err))
                    continue
                if key in owner_of:
                    other = owner_of[key]
                    errors.append(
                        f"{where}: listed twice for {other}"
                        if other == person
                        else f"{where}: the key of {other} is listed for {person} too (one key,"
                        " one person)"
                    )
                    continue
                owner_of[key] = person
                own.append(key)
            if own:
                keys_by[person] = tuple(own)
        if errors:
            raise InvalidInputError(f"{source}: " + "; ".join(errors))
        return cls(people=roles_by, keys=keys_by)

    def member(self, actor: str) -> bool:
        """Whether ``actor`` is on the roster (names as :func:`person_key`)."""
        return person_key(actor) in self.people

    def roles_of(self, actor: str) -> tuple[str, ...]:
        """Roles held by ``actor`` (empty when not on the roster); names as :func:`person_key`."""
        return self.people.get(person_key(actor), ())

    def keys_of(self, actor: str) -> tuple[str, ...]:
        """The public keys (base64 raw) that sign ``actor``'s acts (empty: none listed)."""
        return self.keys.get(person_key(actor), ())

    def owner_of_key(self, public_key: str) -> str | None:
        """Who the roster lists ``public_key`` (base64 raw) for, or None."""
        return next((p for p, keys in self.keys.items() if public_key in keys), None)

    def identity(self, actor: str) -> dict[str, Any] | None:
        """``{"roles", "keys"}`` of ``actor``, or None when not on the roster."""
        person = person_key(actor)
        if person not in self.people:
            return None
        return {"roles": list(self.people[person]), "keys": sorted(self.keys.get(person, ()))}

    def changed_people(self, other: Roster) -> dict[str, str]:
        """Who ``other`` adds, removes or changes (roles or keys), with what happens to them.

        Examples
        --------
        >>> a = Roster.from_dict({"people": {"sam": ["security"], "pat": ["product"]}})
        >>> b = Roster.from_dict({"people": {"sam": ["security", "product"], "eve": ["executive"]}})
        >>> a.changed_people(b)
        {'eve': 'added', 'pat': 'removed', 'sam': 'roles changed'}
        """
        changes: dict[str, str] = {}
        for person in sorted(set(self.people) | set(other.people)):
            before, after = self.identity(person), other.identity(person)
            if before == after:
                continue
            if before is None:
                changes[person] = "added"
            elif after is None:
                changes[person] = "removed"
            else:
                what = [k for k in ("roles", "keys") if before[k] != after[k]]
                changes[person] = " and ".join(what) + " changed"
        return changes

    def to_dict(self) -> dict[str, Any]:
        """The roster document (names as their :func:`person_key`; keys as base64 raw bytes;
        a person without keys in the old list form)."""
        out: dict[str, Any] = {}
        for person, roles in sorted(self.people.items()):
            keys = self.keys.get(person)
            out[person] = {"roles": list(roles), "keys": list(keys)} if keys else list(roles)
        return {"people": out}


def _roster_name(name: Any, errors: list[str]) -> str | None:
    """The key of a roster name, or None (with the reason appended to ``errors``)."""
    if not isinstance(name, str) or not name.strip():
        errors.append(f"people: {name!r} is not a name (every person needs a non-empty name)")
        return None
    try:
        return check_identity(name, where="people")
    except InvalidInputError:
        errors.append(
            f"people: {name[:80]!r} is not an identity (1-128 letters, digits or ._@+-, as"
            " --actor names people)"
        )
        return None


def _entry(entry: Any, where: str, errors: list[str]) -> tuple[list[Any] | None, list[Any]]:
    """(roles, keys) of one roster entry: a list of roles, or ``{roles, keys}``."""
    if isinstance(entry, list):
        if not entry:
            errors.append(f"{where}: must be a non-empty list of roles")
            return None, []
        return entry, []
    if not isinstance(entry, Mapping):
        errors.append(f"{where}: must be a list of roles or a mapping {{roles, keys}}")
        return None, []
    unknown = sorted(str(k) for k in entry if k not in ("roles", "keys"))
    errors += [f"{where}.{k[:40]}: unknown field (roles, keys)" for k in unknown]
    roles, keys = entry.get("roles"), entry.get("keys", [])
    if not isinstance(roles, list) or not roles:
        errors.append(f"{where}.roles: must be a non-empty list of roles")
        roles = None
    if isinstance(keys, str):
        keys = [keys]
    if not isinstance(keys, list):
        errors.append(f"{where}.keys: must be a list of Ed25519 public keys")
        keys = []
    elif len(keys) > _MAX_KEYS:
        errors.append(f"{where}.keys: at most {_MAX_KEYS} keys per person")
        keys = []
    return roles, keys
