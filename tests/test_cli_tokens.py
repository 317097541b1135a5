"""``jupyter datashare serve token create / list / revoke``: personal API tokens of the standalone
service, issued from the command line of whoever holds its database."""

from __future__ import annotations

import getpass
import json
import re

import pytest

from jupyter_datashare.core import api_tokens

from .test_cli import CLI

TOKEN = re.compile(r"^(dsa_[A-Za-z0-9_-]{43})$", re.M)


def authenticate(run, token):
    core = run.core()
    try:
        return api_tokens.authenticate(core, token, "192.0.2.1")
    finally:
        core.close()


@pytest.fixture
def run(tmp_path, capsys):
    return CLI(tmp_path, capsys)


def test_a_token_is_printed_once_listed_without_its_secret_and_revoked(run):
    out = run.ok("serve", "token", "create", "alice", "--label", "laptop", "--days", "30")
    token = TOKEN.search(out).group(1)
    token_id = re.search(r"\b(tok-[A-Za-z0-9]+)\b", out).group(1)
    assert "shown only this once" in out and "expires" in out
    listed = run.ok("serve", "token", "list")
    assert token_id in listed and "alice (laptop)" in listed and "active" in listed and token not in listed
    assert run.json("serve", "token", "list", "--user", "bob") == []
    assert authenticate(run, token) == "alice"
    out = run.ok("serve", "token", "revoke", token_id)
    assert "revoked" in out
    assert [t["state"] for t in run.json("serve", "token", "list")] == ["revoked"]
    assert authenticate(run, token) is None
    events = [e for e in run.events() if e["action"].startswith("token.")]
    assert [(e["action"], e["actor"]) for e in events] == [("token.issued", f"admin:{getpass.getuser()}"),
                                                           ("token.revoked", f"admin:{getpass.getuser()}")]  # fmt: skip
    assert token not in json.dumps(run.events())


def test_json_gives_the_token_once(run):
    made = run.json("serve", "token", "create", "bob")
    assert made["username"] == "bob" and made["expires_at"] is None and TOKEN.fullmatch(made["token"])
    assert "token" not in run.json("serve", "token", "list")[0]


@pytest.mark.parametrize("args, message", [
    (("create", "al ice"), "username: must not contain spaces"),
    (("create", "alice", "--days", "0"), "days: must be a whole number of days from 1 to 3650"),
    (("revoke", "tok-nope"), "no API token 'tok-nope'"),
])  # fmt: skip
def test_bad_input_says_what_is_wrong_and_stores_nothing(run, args, message):
    code, out, err = run("serve", "token", *args)
    assert code == 2 and message in err
    assert run.json("serve", "token", "list") == []
