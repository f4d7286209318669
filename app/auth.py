"""Login (OpenID Connect through ``st.login``) and the roles per gemeente in the pages.

Login is on when ``.streamlit/secrets.toml`` (or a file given with ``--secrets.files``) has an
``[auth]`` section; then every page asks for a login first (:func:`gate`) and the identity is
``st.user``'s. Without ``[auth]`` the installation is the embedded single-user one: no login,
one local user with every right (:data:`buurtmonitor.access.LOCAL_USER`).

Who may read or write which gemeente's notes: :func:`rights` (rules in :mod:`buurtmonitor.access`,
the roles file in :mod:`loaders.access`). CBS figures are visible to every logged-in user.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import streamlit as st

from buurtmonitor.access import LOCAL_USER, AccessPolicy, Identity, Role, RolesError
from loaders.access import load_policy

log = logging.getLogger(__name__)


def login_configured() -> bool:
    """Whether the secrets have an ``[auth]`` section (login required)."""
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all: the embedded mode
        return False


def identity() -> Identity | None:
    """The user of this session: the local user without login, the logged-in user, or None."""
    if not login_configured():
        return LOCAL_USER
    if not st.user.is_logged_in:
        return None
    return Identity.from_claims(st.user.to_dict())


def login_page() -> None:
    """The only page a visitor sees before logging in (every other page needs a login)."""
    st.title("Buurtmonitor")
    st.write("Deze Buurtmonitor is alleen toegankelijk voor medewerkers met een account. "
             "Log in met het account van uw organisatie om verder te gaan.")
    if st.button("Inloggen", type="primary", key="auth_login"):
        st.login()


def gate() -> Identity | None:
    """The user of this session, or None when a login is required and has not happened yet
    (then run only :func:`login_page`). Shows who is logged in, with a logout button."""
    who = identity()
    if who is not None and not who.local:
        with st.sidebar:
            st.text(f"Ingelogd als {who.display_name}")
            if st.button("Uitloggen", key="auth_logout"):
                st.logout()
    return who


@dataclass(frozen=True)
class Rights:
    """What the current user may do with one gemeente's notes, and why not (Dutch)."""

    who: Identity
    role: Role | None
    message: str | None = None      # why there is no access (shown instead of the notes)

    @property
    def read(self) -> bool:
        return self.role is not None

    @property
    def write(self) -> bool:
        return self.role is not None and self.role >= Role.SCHRIJVER

    @property
    def administer(self) -> bool:
        return self.role is not None and self.role >= Role.BEHEERDER


def policy() -> AccessPolicy:
    """The roles of this installation (:class:`RolesError` when the roles file is wrong)."""
    return load_policy()


def rights(gemeente: str) -> Rights:
    """The current user's rights on ``gemeente``'s notes."""
    who = identity() or LOCAL_USER
    if who.local:
        return Rights(who, Role.BEHEERDER)
    try:
        role = policy().role(who, gemeente)
    except RolesError as exc:
        log.error("Rollenbestand: %s", exc)
        return Rights(who, None, f"De notities zijn nu niet beschikbaar: het rollenbestand van deze "
                                 f"installatie is onjuist ({exc}). Meld dit bij de beheerder.")
    if role is None:
        return Rights(who, None, f"U heeft geen rol voor de notities van deze gemeente ({gemeente}). "
                                 "De cijfers blijven zichtbaar; vraag de beheerder om toegang.")
    return Rights(who, role)
