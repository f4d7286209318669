"""Who may do what with a gemeente's notes: roles per gemeente, from a roles file or a groups claim.

Three roles, each including the one before it:

* ``lezer``: the figures (every logged-in user has these) and that gemeente's notes;
* ``schrijver``: also writes, edits and deletes that gemeente's notes;
* ``beheerder``: also sees the history, restores deleted notes and exports/restores the
  gemeente's notes.

A user's roles come from two places, and the highest role per gemeente wins:

1. the roles file (TOML, see ``docs/deployment.md``)::

       [[grant]]
       user = "a.jansen@ede.nl"      # the e-mail (or sub) of the login, any case
       gemeente = "GM0228"           # a gemeente code, or "*" for every gemeente
       role = "schrijver"

       [[grant]]
       group = "buurtmonitor-ede-lezers"   # a name in the provider's groups claim
       gemeente = "GM0228"
       role = "lezer"

2. the provider's groups claim, when a group name has the form ``buurtmonitor:<GMxxxx>:<role>``
   (e.g. ``buurtmonitor:GM0228:beheerder``; ``*`` for every gemeente), so an IT department can
   manage roles in Entra ID or Keycloak alone.

Without login (the embedded single-user default) there is one local user with every right:
:data:`LOCAL_USER`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

#: a gemeente grant for every gemeente
EVERY_GEMEENTE = "*"
#: ``buurtmonitor:GM0228:schrijver`` in a groups claim
GROUP_CLAIM_PATTERN = re.compile(r"^buurtmonitor:(GM\d{4}|\*):(lezer|schrijver|beheerder)$", re.IGNORECASE)
_GEMEENTE = re.compile(r"^GM\d{4}$")
#: longest e-mail/sub/group name accepted from a roles file or a claim
MAX_NAME = 320


class RolesError(ValueError):
    """A roles file that cannot be used (message in Dutch)."""


class Role(enum.IntEnum):
    """A role on one gemeente's notes; a higher role includes the rights of the lower ones."""

    LEZER = 1
    SCHRIJVER = 2
    BEHEERDER = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls[str(text).strip().upper()]
        except KeyError:
            raise RolesError(f"Onbekende rol {text!r}: kies lezer, schrijver of beheerder.") from None


@dataclass(frozen=True)
class Identity:
    """A logged-in user as the identity provider describes them (``st.user``'s claims)."""

    sub: str
    email: str = ""
    name: str = ""
    groups: tuple[str, ...] = ()
    local: bool = False            # the embedded single-user mode: no login, every right

    @property
    def display_name(self) -> str:
        """The name a note is signed with: the provider's name, else the e-mail, else the sub."""
        return (self.name or self.email or self.sub).strip()[:MAX_NAME]

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(k.strip().casefold() for k in (self.sub, self.email) if k and k.strip())

    @classmethod
    def from_claims(cls, claims: Mapping[str, object]) -> Identity:
        """From OIDC claims (``sub``, ``email``, ``name``/``preferred_username``, ``groups``)."""
        raw = claims.get("groups") or ()
        groups: tuple[object, ...] = (raw,) if isinstance(raw, str) else tuple(raw) if isinstance(raw, (list, tuple)) else ()
        name = claims.get("name") or claims.get("preferred_username") or ""
        return cls(sub=str(claims.get("sub") or ""), email=str(claims.get("email") or ""), name=str(name),
                   groups=tuple(g[:MAX_NAME] for g in groups if isinstance(g, str)))


#: the one user of an installation without login (``make run``)
LOCAL_USER = Identity(sub="lokaal", name="", local=True)


@dataclass(frozen=True)
class Grant:
    """One line of the roles file: a user or a group gets ``role`` on ``gemeente`` (or ``*``)."""

    role: Role
    gemeente: str
    user: str | None = None
    group: str | None = None

    def applies_to(self, who: Identity) -> bool:
        if self.user is not None:
            return self.user.casefold() in who.keys
        return self.group is not None and self.group.casefold() in {g.casefold() for g in who.groups}


@dataclass(frozen=True)
class AccessPolicy:
    """The grants of an installation; :meth:`role` answers "what may this user do here"."""

    grants: tuple[Grant, ...] = ()
    use_group_claims: bool = True

    def role(self, who: Identity, gemeente: str) -> Role | None:
        """The highest role of ``who`` on ``gemeente``, or None (no access to its notes)."""
        if who.local:
            return Role.BEHEERDER
        best: Role | None = None
        for g in self.grants:
            if g.gemeente in (gemeente, EVERY_GEMEENTE) and g.applies_to(who):
                best = g.role if best is None else max(best, g.role)
        if self.use_group_claims:
            for name in who.groups:
                m = GROUP_CLAIM_PATTERN.match(name.strip())
                if m and m.group(1).upper() in (gemeente.upper(), EVERY_GEMEENTE):
                    r = Role.parse(m.group(2))
                    best = r if best is None else max(best, r)
        return best

    def can_read(self, who: Identity, gemeente: str) -> bool:
        return self.role(who, gemeente) is not None

    def can_write(self, who: Identity, gemeente: str) -> bool:
        r = self.role(who, gemeente)
        return r is not None and r >= Role.SCHRIJVER

    def can_administer(self, who: Identity, gemeente: str) -> bool:
        r = self.role(who, gemeente)
        return r is not None and r >= Role.BEHEERDER

    def gemeenten(self, who: Identity, known: Iterable[str]) -> list[str]:
        """The gemeenten of ``known`` whose notes ``who`` may read."""
        return [g for g in known if self.can_read(who, g)]


def parse_policy(raw: Mapping[str, object]) -> AccessPolicy:
    """Check and type a parsed roles file (raises :class:`RolesError` with the line at fault)."""
    grants: list[Grant] = []
    items = raw.get("grant", [])
    if not isinstance(items, list):
        raise RolesError("Het rollenbestand moet [[grant]]-regels hebben.")
    for i, g in enumerate(items, start=1):
        where = f"regel {i} ([[grant]])"
        if not isinstance(g, Mapping):
            raise RolesError(f"{where}: geen tabel.")
        unknown = set(g) - {"user", "group", "gemeente", "role"}
        if unknown:
            raise RolesError(f"{where}: onbekende sleutel(s) {', '.join(sorted(unknown))}.")
        user, group = g.get("user"), g.get("group")
        if (user is None) == (group is None):
            raise RolesError(f"{where}: geef precies één van 'user' of 'group'.")
        name = str(user if user is not None else group).strip()
        if not name or len(name) > MAX_NAME:
            raise RolesError(f"{where}: de naam is leeg of langer dan {MAX_NAME} tekens.")
        gem = str(g.get("gemeente", "")).strip().upper()
        if gem != EVERY_GEMEENTE and not _GEMEENTE.match(gem):
            raise RolesError(f"{where}: gemeente {g.get('gemeente')!r} is geen code als GM0228 (of '*').")
        if "role" not in g:
            raise RolesError(f"{where}: 'role' ontbreekt.")
        try:
            role = Role.parse(str(g["role"]))
        except RolesError as exc:
            raise RolesError(f"{where}: {exc}") from None
        grants.append(Grant(role=role, gemeente=gem, user=name if user is not None else None,
                            group=name if group is not None else None))
    opts = raw.get("options", {})
    if not isinstance(opts, Mapping):
        raise RolesError("[options] moet een tabel zijn.")
    return AccessPolicy(grants=tuple(grants), use_group_claims=bool(opts.get("group_claims", True)))
