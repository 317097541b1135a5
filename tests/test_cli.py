"""The ``jupyter datashare`` command line, run in-process (``cli.main``) and once as a real process."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from jupyter_datashare import cli
from jupyter_datashare.core import audit as core_audit
from jupyter_datashare.core import links
from jupyter_datashare.core.errors import NotFound
from jupyter_datashare.core.secrets import digest
from jupyter_datashare.core.service import DataShare
from jupyter_datashare.core.settings import Settings

from . import rawdb
from .conftest import db_url_for

REPO = Path(__file__).resolve().parents[1]
OWNER = "ada"
SECRET_URL = re.compile(r"^http://localhost:8888/datashare/r/(dsr_[A-Za-z0-9_-]{43})$", re.M)
DATASET_ID = re.compile(r"\b(ds-[A-Za-z0-9]+)\b")
LINK_ID = re.compile(r"\b(lnk-[A-Za-z0-9]+)\b")


class CLI:
    """Runs ``jupyter datashare`` in-process against a root and a data dir of the test's own."""

    def __init__(self, tmp_path: Path, capsys):
        self.root = tmp_path / "root"
        self.root.mkdir()
        self.data = tmp_path / "data"
        self.db = self.data / "datashare.sqlite"
        self.db_url = db_url_for(self.data) or f"sqlite:///{self.db}"  # what the CLI opens for this data dir
        self.capsys = capsys

    def __call__(self, *args: str, root: Path | None = None) -> tuple[int, str, str]:
        argv = ["--root-dir", str(root or self.root), "--data-dir", str(self.data), "--owner", OWNER, *args]
        code = cli.main(argv)
        out, err = self.capsys.readouterr()
        assert "Traceback" not in out + err
        return code, out, err

    def ok(self, *args: str, **kw) -> str:
        code, out, err = self(*args, **kw)
        assert code == 0, (code, out, err)
        return out

    def json(self, *args: str) -> dict:
        return json.loads(self.ok(*args, "--json"))

    def files(self, files: dict[str, str]) -> None:
        for rel, text in files.items():
            p = self.root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text)

    def share(self, path: str = "survey", *extra: str, title: str = "Field measurements") -> str:
        out = self.ok("share", path, "--title", title, *extra)
        return DATASET_ID.search(out).group(1)

    def core(self) -> DataShare:
        return DataShare(Settings(root_dir=str(self.root), data_dir=str(self.data), owner=OWNER))

    def sql(self, *statements: tuple) -> None:
        rawdb.execute(self.db_url, *statements)

    def events(self) -> list[dict]:
        return [json.loads(line) for line in self.ok("audit", "export").splitlines()]


SURVEY = {"survey/table.csv": "site,value\nA,10\nB,20\n", "survey/notes/readme.txt": "about the survey\n"}


@pytest.fixture
def run(tmp_path, capsys):
    c = CLI(tmp_path, capsys)
    c.files(SURVEY)
    return c


# -- sharing, listing, showing -------------------------------------------------------------------


def test_share_a_folder_then_list_and_show(run):
    out = run.ok("share", "survey", "--title", "Field measurements", "--description", "Two sites.",
                 "--creator", "Ada Example|0000-0002-1825-0097|Example University", "--creator", "Bruno Sample",
                 "--keyword", "rivers", "--keyword", "temperature", "--license", "CC0-1.0",
                 "--publication", "10.5555/demo.1")  # fmt: skip
    ds_id = DATASET_ID.search(out).group(1)
    assert f"http://localhost:8888/datashare/d/{ds_id}" in out

    listing = run.ok("list")
    row = next(line for line in listing.splitlines() if line.startswith(ds_id))
    assert row.split()[1:4] == ["open", "1", "2"] and row.endswith("Field measurements")

    (summary,) = run.json("list")["datasets"]
    assert summary["id"] == ds_id and summary["file_count"] == 2
    assert summary["total_size"] == sum(len(t) for t in SURVEY.values())

    table_sha = hashlib.sha256(SURVEY["survey/table.csv"].encode()).hexdigest()
    text = run.ok("show", ds_id)
    assert table_sha in text and "table.csv" in text and "notes/readme.txt" in text
    assert "Ada Example (0000-0002-1825-0097; Example University)" in text and "Bruno Sample" in text
    assert "CC0-1.0" in text and "https://doi.org/10.5555/demo.1" in text

    shown = run.json("show", ds_id)
    assert {f["path"]: f["sha256"] for f in shown["files"]}["table.csv"] == table_sha
    assert shown["source_path"] == "survey" and shown["keywords"] == ["rivers", "temperature"]
    assert shown["creators"][0] == {"name": "Ada Example", "orcid": "0000-0002-1825-0097",
                                    "affiliation": "Example University"}  # fmt: skip
    assert shown["landing_page"] == f"http://localhost:8888/datashare/d/{ds_id}"


def test_global_options_work_after_the_command_and_base_url_shapes_links(run, capsys):
    code = cli.main(["share", "survey/table.csv", "--title", "One table", "--root-dir", str(run.root),
                     "--data-dir", str(run.data), "--owner", OWNER, "--base-url", "https://hub.example.org/user/ada"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    ds_id = DATASET_ID.search(out).group(1)
    assert f"https://hub.example.org/user/ada/datashare/d/{ds_id}" in out
    # The owner is part of the identity: another owner sees nothing.
    assert cli.main(["list", "--json", "--data-dir", str(run.data), "--owner", "someone-else"]) == 0
    assert json.loads(capsys.readouterr().out) == {"datasets": []}


def test_absolute_path_inside_the_root_is_accepted_outside_is_refused(run, tmp_path):
    ds_id = run.share(str(run.root / "survey"))
    assert run.json("show", ds_id)["source_path"] == "survey"
    outside = tmp_path / "outside.csv"
    outside.write_text("secret\n")
    code, out, err = run("share", str(outside), "--title", "Nope")
    assert code == 2 and out == "" and err.startswith("error: path: ")
    assert len(run.json("list")["datasets"]) == 1


def test_versions_and_show_version(run):
    ds_id = run.share()
    old_sha = hashlib.sha256(SURVEY["survey/table.csv"].encode()).hexdigest()
    (run.root / "survey" / "table.csv").write_text("site,value\nA,11\nB,21\nC,31\n")
    assert "published version 2" in run.ok("version", ds_id)
    shown = run.json("show", ds_id)
    assert shown["version"] == 2 and [v["number"] for v in shown["versions"]] == [1, 2]
    assert old_sha not in {f["sha256"] for f in shown["files"]}
    assert old_sha in {f["sha256"] for f in run.json("show", ds_id, "--version", "1")["files"]}
    code, out, err = run("show", ds_id, "--version", "3")
    assert code == 2 and out == "" and "no version 3" in err


def test_withdraw_hides_the_dataset_from_list_but_not_from_list_all(run):
    ds_id = run.share()
    assert "withdrew" in run.ok("withdraw", ds_id, "--reason", "consent withdrawn")
    assert run.json("list")["datasets"] == []
    (summary,) = run.json("list", "--all")["datasets"]
    assert summary["id"] == ds_id and summary["withdrawn"]
    assert "withdrawn" in run.ok("list", "--all")
    assert run.json("show", ds_id)["withdrawal_reason"] == "consent withdrawn"
    code, _, err = run("withdraw", ds_id)
    assert code == 2 and "already withdrawn" in err


def test_embargoed_share_shows_the_embargo(run):
    ds_id = run.share("survey", "--level", "embargoed", "--embargo-until", "2099-01-31", "--after-embargo", "restricted",
                      "--external-member", "Dr Chen|chen@example.org")
    access = run.json("show", ds_id)["access"]
    assert access == {"level": "embargoed", "level_in_force": "embargoed", "embargo_until": "2099-01-31T00:00:00Z",
                      "after_embargo": "restricted"}  # fmt: skip
    assert "embargoed until 2099-01-31T00:00:00Z, then restricted" in run.ok("show", ds_id)


# -- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, field",
    [
        (["share", "missing", "--title", "T"], "path"),
        (["share", "../root/survey", "--title", "T"], "path"),
        (["share", "survey", "--title", "   "], "title"),
        (["share", "survey", "--title", "T", "--license", "MIT"], "license"),
        (["share", "survey", "--title", "T", "--creator", "Ada|not-an-orcid"], "creators[0].orcid"),
        (["share", "survey", "--title", "T", "--level", "embargoed"], "access.embargo_until"),
        (["share", "survey", "--title", "T", "--embargo-until", "2099-01-01"], "access.embargo_until"),
        (["share", "survey", "--title", "T", "--publication", "not a doi"], "related_publication"),
    ],
)
def test_bad_input_exits_2_naming_the_field_and_stores_nothing(run, args, field):
    code, out, err = run(*args)
    assert code == 2
    assert out == ""
    assert err.startswith(f"error: {field}: ") and err.count("\n") == 1
    assert run.json("list", "--all")["datasets"] == []
    assert run.ok("audit", "export") == ""
    assert [p for p in (run.data / "store").rglob("*") if p.is_file()] == []


def test_custom_licence_needs_its_text(run):
    ds_id = run.share("survey", "--license", "MIT", "--license-text", "Permission is hereby granted...")
    assert run.json("show", ds_id)["license"] == {"id": "MIT", "name": "MIT", "text": "Permission is hereby granted..."}


def test_unknown_dataset_and_link_are_user_errors(run):
    for args in (["show", "ds-nope"], ["version", "ds-nope"], ["link", "create", "ds-nope"], ["link", "revoke", "lnk-x"]):
        code, out, err = run(*args)
        assert (code, out) == (2, "") and err.startswith("error: no ")


# -- review links ---------------------------------------------------------------------------------


def test_link_create_prints_a_working_url_whose_secret_is_not_stored_and_revoke_kills_it(run):
    ds_id = run.share("survey", "--level", "reviewer-only")
    before = datetime.now(timezone.utc)
    code, out, err = run("link", "create", ds_id, "--label", "Reviewer 1", "--days", "10", "--anonymous")
    assert code == 0 and "shown only once" in err
    secret = SECRET_URL.search(out).group(1)
    link_id = LINK_ID.search(out).group(1)
    assert (before + timedelta(days=10)).date().isoformat() in out

    stored = b"".join(p.read_bytes() for p in run.data.rglob("*") if p.is_file())
    assert secret.encode() not in stored
    assert secret.encode() not in rawdb.all_bytes(run.db_url)
    assert digest(secret).encode() in rawdb.all_bytes(run.db_url)  # the right database was read: its hash is there
    assert secret not in run.ok("audit", "export")

    ctx = run.core()
    try:
        row, *_ = links.resolve(ctx, secret, "127.0.0.1")  # the printed URL is the capability
        assert row.id == link_id and row.anonymous
    finally:
        ctx.close()

    listed = run.ok("link", "list", ds_id)
    assert link_id in listed and "active" in listed and "Reviewer 1" in listed and "anonymous" in listed
    assert secret not in listed

    assert link_id in run.ok("link", "revoke", link_id)
    (info,) = run.json("link", "list", ds_id)["links"]
    assert info["id"] == link_id and info["state"] == "revoked"
    ctx = run.core()
    try:
        with pytest.raises(NotFound):
            links.resolve(ctx, secret, "127.0.0.1")
    finally:
        ctx.close()


def test_on_a_single_user_server_jupyter_members_never_make_the_quorum(run):
    # Without owner_identities every Jupyter login acts as the owner: only external members count.
    run.share("survey", "--level", "restricted", "--external-member", "Dr Chen|chen@example.org")
    code, out, err = run("share", "survey", "--title", "T", "--level", "restricted", "--member", "bob")
    assert code == 2 and err.startswith("error: committee.members: ") and "owner_identities" in err
    assert run.share("survey", "--level", "restricted", "--member", "bob",
                     "--DataShareApp.owner_identities=['ada-owner']").startswith("ds-")  # fmt: skip


def test_restricted_dataset_link_needs_allow_restricted(run):
    ds_id = run.share("survey", "--level", "restricted", "--external-member", "Dr Chen|chen@example.org")
    code, out, err = run("link", "create", ds_id)
    assert code == 2 and out == "" and err.startswith("error: allow_restricted: ")
    assert SECRET_URL.search(run.ok("link", "create", ds_id, "--allow-restricted"))
    code, _, err = run("link", "create", ds_id, "--allow-restricted", "--days", "9999")
    assert code == 2 and err.startswith("error: expires_in_days: ")


# -- audit log ------------------------------------------------------------------------------------

ACTIONS = ["dataset.shared", "dataset.shared", "link.created", "link.revoked", "version.published", "dataset.withdrawn"]


@pytest.fixture
def logged(run):
    """A log of six events, one per kind of change a researcher makes."""
    run.files({"other/data.csv": "x\n1\n"})
    a = run.share()
    b = run.share("other", title="Other")
    link_id = LINK_ID.search(run.ok("link", "create", a, "--label", "R1")).group(1)
    run.ok("link", "revoke", link_id)
    (run.root / "survey" / "table.csv").write_text("site,value\nA,12\n")
    run.ok("version", a)
    run.ok("withdraw", b)
    return run


def test_audit_export_takes_the_filters_and_a_bad_date_names_its_flag(logged, tmp_path):
    everything = logged.events()
    first = everything[0]["dataset_id"]
    mine = [json.loads(x) for x in logged.ok("audit", "export", "--dataset", first).splitlines()]
    assert mine and [e["seq"] for e in mine] == [e["seq"] for e in everything if e["dataset_id"] == first]
    links = [json.loads(x) for x in logged.ok("audit", "export", "--action", "link.created").splitlines()]
    assert [e["action"] for e in links] == ["link.created"]
    assert logged.ok("audit", "export", "--until", "2000-01-01") == ""  # nothing that old
    assert len(logged.ok("audit", "export", "--since", "2000-01-01").splitlines()) == len(everything)
    out_file = tmp_path / "never.csv"
    code, out, err = logged("audit", "export", "--since", "last tuesday", "--output", str(out_file))
    assert (code, out) == (2, "") and err.startswith("error: --since: ") and not out_file.exists()


def _verify(run, *args) -> tuple[int, str, str]:
    return run("audit", "verify", *args)


def test_audit_export_jsonl_and_csv_parse_back_to_the_same_events(logged, tmp_path):
    jsonl = logged.events()
    csv_file = tmp_path / "audit.csv"
    assert logged.ok("audit", "export", "--format", "csv", "--output", str(csv_file)) == ""
    rows = list(csv.DictReader(io.StringIO(csv_file.read_text(encoding="utf-8"))))
    assert [e["seq"] for e in jsonl] == [1, 2, 3, 4, 5, 6]
    assert [int(r["seq"]) for r in rows] == [1, 2, 3, 4, 5, 6]
    assert [e["action"] for e in jsonl] == ACTIONS == [r["action"] for r in rows]
    assert {e["client"] for e in jsonl} == {"cli"} and {e["actor"] for e in jsonl} == {OWNER}
    assert [e["entry_hash"] for e in jsonl] == [r["entry_hash"] for r in rows]
    assert json.loads(rows[0]["details"]) == jsonl[0]["details"]


def test_audit_verify_ok_on_an_untouched_log(logged):
    code, out, err = _verify(logged)
    assert (code, out, err) == (0, "ok: 6 events, 0 checkpoints\n", "")


def test_audit_verify_catches_an_edited_event(logged):
    logged.sql("UPDATE audit_events SET actor='mallory' WHERE seq=2")
    code, out, err = _verify(logged)
    assert code == 1 and out == ""
    assert re.search(r"event #2\b", err) and "does not match its hash" in err


def test_audit_verify_catches_an_event_deleted_from_the_middle(logged):
    logged.sql("DELETE FROM audit_events WHERE seq=3")
    code, out, err = _verify(logged)
    assert code == 1 and re.search(r"event #3\b", err) and "missing" in err


def _truncate_to(run, size: int, *, fix_head: bool, drop_checkpoints: bool = False) -> None:
    """What an attacker with the database would do: cut the tail and make the rest look whole."""
    statements = [("DELETE FROM audit_events WHERE seq > ?", (size,))]
    if fix_head:
        statements.append(("UPDATE audit_head SET size=?, checkpointed_size=0, "
                           "head_hash=(SELECT entry_hash FROM audit_events WHERE seq=?)", (size, size)))  # fmt: skip
    if drop_checkpoints:  # and the marks of earlier verifications, which would betray the cut too
        statements += ["DELETE FROM audit_checkpoints", "DELETE FROM audit_verified"]
    run.sql(*statements)


@pytest.mark.parametrize("fix_head", [False, True])
def test_audit_verify_catches_a_truncation_after_a_checkpoint(logged, fix_head):
    out = logged.ok("audit", "checkpoint")
    assert out.splitlines()[1] == "6" and re.search(r"^verifier key: jupyter-datashare/\S+$", out, re.M)
    _truncate_to(logged, 4, fix_head=fix_head)
    code, out, err = _verify(logged)
    assert code == 1 and out == ""
    assert "truncated" in err and re.search(r"event #5 is the first missing", err)


def test_a_saved_checkpoint_catches_a_truncation_even_when_the_database_was_cleaned_up(logged, tmp_path):
    saved = tmp_path / "checkpoint.txt"
    saved.write_text(logged.ok("audit", "checkpoint"))
    code, out, _ = _verify(logged, "--checkpoint", str(saved))
    assert code == 0 and out.startswith("ok: 6 events, 1 checkpoints\nno events since the trusted checkpoint of ")

    _truncate_to(logged, 4, fix_head=True, drop_checkpoints=True)
    # Nothing left in the database betrays the cut...
    assert _verify(logged)[:2] == (0, "ok: 4 events, 0 checkpoints\n")
    # ...but the checkpoint kept elsewhere does.
    code, out, err = _verify(logged, "--checkpoint", str(saved))
    assert code == 1 and out == "" and "event #5 is the first missing" in err


def test_audit_verify_starts_where_the_last_one_ended_and_full_from_the_first_event(logged):
    assert _verify(logged)[:2] == (0, "ok: 6 events, 0 checkpoints\n")
    logged.ok("link", "create", logged.json("list")["datasets"][0]["id"])
    code, out, _ = _verify(logged)
    first, then = out.splitlines()
    assert code == 0 and first == "ok: 7 events, 0 checkpoints"
    assert re.fullmatch(r"verified events #7\.\.#7 from the verification of 20\d\d-\d\d-\d\dT[\d:.]+Z; "
                        r"--full checks #1\.\.#6 again", then)  # fmt: skip
    # An event changed before that point is not hashed again, unless --full.
    logged.sql("UPDATE audit_events SET actor='mallory' WHERE seq=2")
    assert _verify(logged)[0] == 0
    code, out, err = _verify(logged, "--full")
    assert (code, out) == (1, "") and re.search(r"event #2\b", err) and "does not match its hash" in err


def test_several_checkpoints_saved_in_one_file_are_all_used(logged, tmp_path):
    saved = tmp_path / "checkpoints.txt"
    first = logged.ok("audit", "checkpoint")
    logged.ok("link", "create", logged.json("list")["datasets"][0]["id"])
    saved.write_text(first + logged.ok("audit", "checkpoint"))  # as `>>` would
    assert _verify(logged, "--checkpoint", str(saved))[1].startswith("ok: 7 events, 2 checkpoints\n")
    # Only the second checkpoint (at 7) covers the last event: every note in the file must count.
    _truncate_to(logged, 6, fix_head=True, drop_checkpoints=True)
    code, _, err = _verify(logged, "--checkpoint", str(saved))
    assert code == 1 and "event #7 is the first missing" in err


def test_a_checkpoint_from_another_log_or_no_checkpoint_at_all_is_refused(logged, tmp_path, capsys):
    other = tmp_path / "other-data"
    assert cli.main(["--root-dir", str(logged.root), "--data-dir", str(other), "share", "survey", "--title", "X"]) == 0
    assert cli.main(["--root-dir", str(logged.root), "--data-dir", str(other), "audit", "checkpoint"]) == 0
    foreign = tmp_path / "foreign.txt"
    foreign.write_text(capsys.readouterr().out)
    code, _, err = _verify(logged, "--checkpoint", str(foreign))
    assert code == 1 and "does not verify" in err
    junk = tmp_path / "junk.txt"
    junk.write_text("hello\n")
    code, _, err = _verify(logged, "--checkpoint", str(junk))
    assert code == 2 and err.startswith("error: --checkpoint: ")
    code, _, err = _verify(logged, "--checkpoint", str(tmp_path / "absent.txt"))
    assert code == 2 and err.startswith("error: ") and "absent.txt" in err


@pytest.mark.parametrize("forgery, first_bad", [("copied hash", 3), ("recomputed hash", 4)])
def test_audit_verify_catches_an_inserted_event(logged, forgery, first_bad):
    k = 3
    rawdb.execute(logged.db_url, ("UPDATE audit_events SET seq = -seq - 1 WHERE seq >= ?", (k,)),  # two steps: seq is unique
                  "UPDATE audit_events SET seq = -seq WHERE seq < 0")  # fmt: skip
    ((prev, ts),) = rawdb.rows(logged.db_url, "SELECT entry_hash, ts FROM audit_events WHERE seq=?", (k - 1,))
    row = {f: None for f in core_audit.FIELDS} | {"seq": k, "ts": ts, "actor": OWNER, "action": "link.revoked",
                                                  "outcome": "ok", "client": "cli"}  # fmt: skip
    if forgery == "copied hash":
        ((entry_hash,),) = rawdb.rows(logged.db_url, "SELECT entry_hash FROM audit_events WHERE seq=?", (k + 1,))
    else:
        entry_hash = core_audit.chain(prev, row)
    cols = ", ".join(row) + ", entry_hash"
    rawdb.execute(logged.db_url, (f"INSERT INTO audit_events ({cols}) VALUES ({', '.join('?' * (len(row) + 1))})",
                                  [*row.values(), entry_hash]),
                  "UPDATE audit_head SET size = size + 1")  # fmt: skip
    assert len(logged.events()) == 7
    code, out, err = _verify(logged)
    assert code == 1 and out == ""
    assert re.search(rf"event #{first_bad}\b", err) and "does not match its hash" in err


def test_audit_checkpoint_on_an_empty_log_is_a_user_error(run):
    code, out, err = run("audit", "checkpoint")
    assert (code, out) == (2, "") and "nothing to sign" in err


# -- demo -----------------------------------------------------------------------------------------


def test_demo_shares_one_dataset_per_level_with_links_and_is_idempotent(run, tmp_path):
    demo_dir = tmp_path / "demo"
    out = run.ok("demo", str(demo_dir))
    found = run.json("list")["datasets"]
    assert sorted(d["access"]["level"] for d in found) == ["embargoed", "open", "restricted", "reviewer-only"]
    by_level = {d["access"]["level"]: d for d in found}

    embargo = datetime.fromisoformat(by_level["embargoed"]["access"]["embargo_until"].replace("Z", "+00:00"))
    assert 150 < (embargo - datetime.now(timezone.utc)).days < 200
    assert by_level["embargoed"]["access"]["after_embargo"] == "open"

    with (demo_dir / "river-survey" / "measurements.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) > 10 and "temperature_c" in rows[0]
    assert (demo_dir / "river-survey" / "README.txt").is_file()
    assert run.json("show", by_level["open"]["id"])["creators"][0]["name"] == "Ada Example"

    # Every landing page printed is a public one: a reviewer-only dataset's would be a 404.
    assert out.count("landing page: http") == 3 and f"/d/{by_level['reviewer-only']['id']}" not in out
    reviewer = run.json("link", "list", by_level["reviewer-only"]["id"])["links"]
    assert sorted((x["label"], x["anonymous"]) for x in reviewer) == [("Anonymous reviewer", True), ("Reviewer 1", False)]
    (editor,) = run.json("link", "list", by_level["restricted"]["id"])["links"]
    assert editor["allow_restricted"]

    secrets = SECRET_URL.findall("\n".join(line.split(": ", 1)[-1] for line in out.splitlines()))
    assert len(secrets) == 3
    ctx = DataShare(Settings(root_dir=str(demo_dir), data_dir=str(run.data), owner=OWNER))
    try:
        opened = {links.resolve(ctx, s, "127.0.0.1")[1].access_level for s in secrets}
    finally:
        ctx.close()
    assert opened == {"reviewer-only", "restricted"}

    events = len(run.events())
    again = run.ok("demo", str(demo_dir))
    assert "--ServerApp.root_dir=" + str(demo_dir) in again
    assert again.count("already there") == 4 and not SECRET_URL.search(again.replace(": http", "\nhttp"))
    assert sorted(d["id"] for d in run.json("list")["datasets"]) == sorted(d["id"] for d in found)
    assert len(run.events()) == events


# -- as a real program ----------------------------------------------------------------------------


def _db_args(data_dir) -> list[str]:
    """A real process is not the test's own: it is told its data dir's database, if not SQLite."""
    url = db_url_for(data_dir)
    return ["--db-url", url] if url else []


def _subprocess_env() -> dict:
    return os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}


def test_help_runs_as_a_program_and_reads_well():
    r = subprocess.run([sys.executable, "-m", "jupyter_datashare.cli", "--help"], capture_output=True, text=True,
                       cwd=REPO, env=_subprocess_env(), timeout=120)  # fmt: skip
    assert r.returncode == 0, r.stderr
    for command in ("list", "show", "share", "version", "withdraw", "link", "audit", "demo"):
        assert re.search(rf"^\s+{command}\s+\S", r.stdout, re.M), command
    assert r.stdout.startswith("usage: jupyter datashare")


def test_a_user_error_in_a_real_process_prints_one_line_and_no_traceback(tmp_path):
    (tmp_path / "root").mkdir()
    r = subprocess.run([sys.executable, "-m", "jupyter_datashare.cli", "--root-dir", str(tmp_path / "root"),
                        "--data-dir", str(tmp_path / "data"), *_db_args(tmp_path / "data"), "share", "missing", "--title", "T"],
                       capture_output=True, text=True, cwd=REPO, env=_subprocess_env(), timeout=120)  # fmt: skip
    assert (r.returncode, r.stdout, r.stderr) == (2, "", "error: path: 'missing' does not exist\n")


def test_the_installed_console_script_runs():
    """`pip install` puts `jupyter-datashare` on PATH, which is what makes `jupyter datashare` work."""
    script = shutil.which("jupyter-datashare") or shutil.which("jupyter-datashare", path=os.path.dirname(sys.executable))
    assert script, "the console script is not installed: pip install -e ."
    r = subprocess.run([script, "share", "--help"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "--embargo-until" in r.stdout


@pytest.mark.parametrize("command", [["list"], ["show"], ["share"], ["link", "create"], ["audit", "verify"], ["demo"]])
def test_every_command_has_help(command, capsys):
    assert cli.main([*command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: jupyter datashare {' '.join(command)}") and "--root-dir DIR" in out


def test_the_cli_runs_without_the_web_server_stack(tmp_path):
    script = (
        "import sys; from jupyter_datashare import cli; "
        f"rc = cli.main(['--root-dir', {str(tmp_path)!r}, '--data-dir', {str(tmp_path / 'data')!r}, "
        f"*{_db_args(tmp_path / 'data')!r}, 'list']); "
        "assert rc == 0, rc; loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('tornado', 'jupyter_server')); "
        "assert not loaded, loaded"
    )
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, env=_subprocess_env(),
                       timeout=120)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "no datasets yet" in r.stdout


def test_cite_prints_citations_and_statements(run):
    ds_id = run.share("survey", "--creator", "Ada Example|0000-0002-1825-0097|Example U")
    assert run.ok("cite", ds_id).startswith("Ada Example (")
    assert run.ok("cite", ds_id, "--format", "bibtex").startswith("@misc{")
    assert json.loads(run.ok("cite", ds_id, "--format", "datacite"))["creators"][0]["name"] == "Ada Example"
    assert "openly available at http://localhost:8888/datashare/d/" in run.ok("cite", ds_id, "--format", "availability")
    code, _, err = run("cite", "ds-nope")
    assert code == 2 and err.startswith("error:")


def test_master_key_file_option_keeps_the_key_out_of_the_data_dir(run, tmp_path):
    key_file = tmp_path / "keys" / "datashare.key"
    key_file.parent.mkdir()
    ds_id = run.share("survey", "--level", "reviewer-only", "--master-key-file", str(key_file))
    assert len(key_file.read_bytes()) == 32 and not (run.data / "master.key").exists()
    assert run.ok("version", ds_id, "--master-key-file", str(key_file))  # re-encrypts under the same key
    code, out, err = run("version", ds_id)  # without it: the key is missing, said plainly
    assert code != 0 and out == "" and "master key file" in err and "is missing" in err


def test_signing_key_file_keeps_the_key_out_of_the_data_dir_and_a_missing_one_is_never_replaced(run, tmp_path,
                                                                                                 monkeypatch):  # fmt: skip
    run.share()
    run.ok("audit", "checkpoint")  # signed with the key made in the data dir, as before
    key_file = tmp_path / "secrets" / "signing.key"
    code, out, err = run("audit", "checkpoint", "--signing-key-file", str(key_file))
    assert code == 2 and "signing key file" in err and f"move {run.data / 'audit-signing.key'} there" in err
    (run.data / "audit-signing.key").rename(key_file.parent.mkdir() or key_file)  # as the hint says
    note = run.ok("audit", "checkpoint", "--signing-key-file", str(key_file))
    assert not (run.data / "audit-signing.key").exists()
    # Without the file the log's checkpoints cannot be checked: an error, not a fresh key.
    code, out, err = run("audit", "verify")
    assert (code, out) == (2, "") and "audit-signing.key is missing" in err and "restore it" in err
    assert not (run.data / "audit-signing.key").exists()
    monkeypatch.setenv("JUPYTER_DATASHARE_SIGNING_KEY_FILE", str(key_file))  # the environment names it too
    assert run.ok("audit", "verify").endswith(" events, 1 checkpoints\n")
    # A mounted secret holding the key as base64 text works the same.
    key_file.write_text(base64.b64encode(key_file.read_bytes()).decode() + "\n")
    assert run.ok("audit", "checkpoint") == note


def test_list_follows_the_pages_to_the_end_or_stops_at_the_limit(run):
    from tests.core.test_catalogue import add_rows

    core = run.core()
    try:
        ids = add_rows(core, 1_205, owner=OWNER)  # more than one page of the API's biggest (1,000)
    finally:
        core.close()
    listed = run.json("list")["datasets"]
    assert [d["id"] for d in listed] == ids[::-1]  # every dataset once, newest first
    newest = run.json("list", "--limit", "3", "--search", "survey 11")["datasets"]
    assert [d["id"] for d in newest] == [ids[1199], ids[1198], ids[1197]]
    assert len(run.ok("list").splitlines()) == 1_205 + 1  # the table: a header and a line each
    code, _, err = run("list", "--limit", "0")
    assert code != 0 and "limit" in err
