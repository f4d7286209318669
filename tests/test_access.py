"""Roles per gemeente (buurtmonitor.access, loaders.access): the rules, the roles file."""

from __future__ import annotations

import pytest

from buurtmonitor.access import Identity, Role, RolesError, parse_policy
from loaders.access import load_policy

ROLES = """
[[grant]]
user = "bert@ede.nl"
gemeente = "GM0228"
role = "lezer"
"""


# ---------------------------------------------------------------- the rules (no browser needed)
def test_roles_from_file_and_groups_claim():
    pol = parse_policy({"grant": [{"user": "Bert@Ede.nl", "gemeente": "GM0228", "role": "lezer"},
                                  {"group": "ede-team", "gemeente": "GM0228", "role": "schrijver"},
                                  {"user": "admin@vng.nl", "gemeente": "*", "role": "beheerder"}]})
    bert = Identity(sub="b1", email="bert@ede.nl")
    anna = Identity(sub="a1", email="anna@ede.nl", groups=("buurtmonitor:GM0228:schrijver",))
    carla = Identity(sub="c1", email="carla@amsterdam.nl", groups=("buurtmonitor:GM0363:beheerder",))
    team = Identity(sub="t1", groups=("ede-team",))
    admin = Identity(sub="x", email="admin@vng.nl")
    assert pol.role(bert, "GM0228") is Role.LEZER and not pol.can_write(bert, "GM0228")
    assert pol.can_write(anna, "GM0228") and not pol.can_administer(anna, "GM0228")
    assert pol.role(carla, "GM0228") is None and pol.can_administer(carla, "GM0363")
    assert pol.role(team, "GM0228") is Role.SCHRIJVER
    assert pol.can_administer(admin, "GM0228") and pol.can_administer(admin, "GM0363")
    assert pol.gemeenten(bert, ["GM0228", "GM0363"]) == ["GM0228"]
    # the groups claim can be switched off: then only the file counts
    off = parse_policy({"grant": [], "options": {"group_claims": False}})
    assert off.role(anna, "GM0228") is None


@pytest.mark.parametrize("grant, fragment", [
    ({"user": "a", "group": "b", "gemeente": "GM0228", "role": "lezer"}, "precies één"),
    ({"user": "a", "gemeente": "Ede", "role": "lezer"}, "geen code"),
    ({"user": "a", "gemeente": "GM0228", "role": "koning"}, "Onbekende rol"),
    ({"user": "a", "gemeente": "GM0228"}, "'role' ontbreekt"),
    ({"user": "a", "gemeente": "GM0228", "role": "lezer", "rol": "x"}, "onbekende sleutel"),
])
def test_a_wrong_roles_file_is_refused_in_dutch(grant, fragment):
    with pytest.raises(RolesError, match=fragment):
        parse_policy({"grant": [grant]})


def test_identity_from_claims_never_from_free_text():
    who = Identity.from_claims({"sub": "s", "email": "anna@ede.nl", "name": "Anna de Vries",
                                "groups": ["buurtmonitor:GM0228:schrijver", 5]})
    assert who.display_name == "Anna de Vries" and who.groups == ("buurtmonitor:GM0228:schrijver",)
    assert Identity.from_claims({"sub": "s", "email": "x@y.nl"}).display_name == "x@y.nl"


def test_roles_file_is_read_again_when_it_changes(tmp_path, monkeypatch):
    f = tmp_path / "rollen.toml"
    f.write_text(ROLES, encoding="utf-8")
    monkeypatch.setenv("BUURTMONITOR_ROLES_FILE", str(f))
    bert = Identity(sub="b", email="bert@ede.nl")
    assert load_policy().role(bert, "GM0228") is Role.LEZER
    f.write_text(ROLES.replace("lezer", "beheerder") + "\n# gewijzigd\n", encoding="utf-8")
    assert load_policy().role(bert, "GM0228") is Role.BEHEERDER
    f.write_text("[[grant]]\nuser = 'x'\n", encoding="utf-8")
    with pytest.raises(RolesError, match="gemeente"):
        load_policy()
