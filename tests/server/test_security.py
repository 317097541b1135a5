"""DESIGN.md §6 and the jupyter-server advisories a file-serving extension could repeat."""

import json
import logging

import pytest

from tests import rawdb
from tests.conftest import link_for, path_of


class Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))


def all_log_text(collector) -> str:
    return "\n".join(collector.lines)


@pytest.fixture
def logs(jp_serverapp):
    """Every log line the server writes, at every level, whatever logger it goes through."""
    collector = Collect()
    collector.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    ext = next(iter(jp_serverapp.extension_manager.extension_apps["jupyter_datashare"]))
    loggers = [jp_serverapp.log, ext.log, logging.getLogger()] + [
        logging.getLogger(n) for n in ("tornado.access", "tornado.application", "tornado.general")
    ]
    saved = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.addHandler(collector)
        lg.setLevel(logging.DEBUG)
    yield collector
    for lg, level in saved:
        lg.removeHandler(collector)
        lg.setLevel(level)


async def test_secrets_never_reach_the_logs_or_error_pages(call, share, ctx, logs):
    d = await share(access={"level": "reviewer-only"})
    live = await link_for(call, d["id"])
    dead = await link_for(call, d["id"])
    await call.json("DELETE", "datashare", "api", "links", dead["id"])
    live_secret, dead_secret = live["url"].rsplit("/", 1)[1], dead["url"].rsplit("/", 1)[1]
    unknown_secret = "dsr_" + "Q" * 43
    bodies = []
    for parts, headers in [
        (path_of(live["url"]), {}),
        (path_of(live["url"]) + ["files", "table.csv"], {}),
        (path_of(live["url"]) + ["files", "not-in-manifest.csv"], {}),
        (path_of(live["url"]) + ["whatever", "else"], {}),
        (path_of(dead["url"]), {"Referer": live["url"]}),
        (["datashare", "r", unknown_secret], {"Referer": f"https://evil.example/?next={live_secret}"}),
        (["datashare", "r", unknown_secret, "files", "x"], {"Accept": "application/json"}),
    ]:
        r = await call("GET", *parts, anon=True, headers=headers)
        if r.code >= 400:
            bodies.append(r.body.decode())
    # A 5xx as well: the audit log is locked, so the download must fail (and log an error).
    with rawdb.write_locked(ctx, exclusive=True):
        r = await call("GET", *path_of(live["url"]), "files", "table.csv", anon=True, headers={"Referer": live["url"]})
    assert r.code == 503 and b"id,value" not in r.body
    bodies.append(r.body.decode())
    text = all_log_text(logs)
    assert "/datashare/r/dsr_[redacted]" in text  # the requests were logged, redacted
    for secret in (live_secret, dead_secret, unknown_secret):
        assert secret not in text
        assert secret[4:] not in text
        for body in bodies:
            assert secret not in body and "Traceback" not in body
    events = json.dumps((await call.json("GET", "datashare", "api", "audit", params={"limit": "1000"}))["events"])
    for secret in (live_secret, dead_secret, unknown_secret):
        assert secret not in events


async def test_if_the_audit_event_cannot_be_written_nothing_is_served(call, share, ctx):
    d = await share(access={"level": "restricted"}, committee={"members": ["bob"]})
    with rawdb.write_locked(ctx, exclusive=True):
        r = await call("GET", "datashare", "api", "datasets", d["id"], "files", "table.csv")
    assert r.code == 503 and b"id,value" not in r.body
    assert "audit" in json.loads(r.body)["message"]


async def test_capability_headers(call, share):
    d = await share(access={"level": "reviewer-only"})
    link = await link_for(call, d["id"])
    for suffix in ((), ("files", "table.csv"), ("files", "missing")):
        r = await call("GET", *path_of(link["url"]), *suffix, anon=True)
        assert r.headers["Referrer-Policy"] == "no-referrer"
        assert "noindex" in r.headers["X-Robots-Tag"]
        assert r.headers["Cache-Control"] == "no-store"
    page = (await call("GET", *path_of(link["url"]), anon=True)).body.decode()
    assert '<meta name="referrer" content="no-referrer">' in page
    assert "<script" not in page


async def test_downloads_on_the_lean_handler_keep_the_host_check_and_the_frame_headers(call, share, jp_serverapp):
    """Public downloads are served by a plain tornado handler (base.LeanPublicHandler): jupyter-server's
    Host check against DNS rebinding still applies, and so do the headers that keep them out of frames."""
    assert not jp_serverapp.allow_remote_access
    d = await share(access={"level": "open"})
    link = await link_for(call, d["id"])
    for parts in (["datashare", "d", d["id"], "files", "table.csv"], [*path_of(link["url"]), "files", "table.csv"]):
        ok = await call("GET", *parts, anon=True)
        assert ok.code == 200 and ok.headers["X-Frame-Options"] == "DENY"
        assert ok.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
        rebound = await call("GET", *parts, anon=True, headers={"Host": "attacker.example:8888"})
        assert rebound.code == 403 and b"id,value" not in rebound.body


@pytest.mark.parametrize("ds_config", [{"failed_lookups_per_client": 3, "failed_lookups_overall": 1000}])
async def test_failed_lookups_are_rate_limited(call, share, ds_config):
    d = await share(access={"level": "reviewer-only"})
    link = await link_for(call, d["id"])
    for i in range(3):
        r = await call("GET", "datashare", "r", f"dsr_{'x' * 42}{i}", anon=True)
        assert r.code == 404
    r = await call("GET", "datashare", "r", "dsr_guess", anon=True)
    assert r.code == 429 and int(r.headers["Retry-After"]) > 0
    # While blocked, even a good secret is not tried: guessing cannot continue on the side.
    assert (await call("GET", *path_of(link["url"]), anon=True)).code == 429


@pytest.mark.parametrize("ds_config", [{"failed_lookups_per_client": 1000, "failed_lookups_overall": 2}])
async def test_failed_lookups_are_rate_limited_globally(call, ds_config):
    for i in range(2):
        assert (await call("GET", "datashare", "r", f"dsr_{i}", anon=True)).code == 404
    r = await call("GET", "datashare", "r", "dsr_3", anon=True)
    assert r.code == 429 and "Retry-After" in r.headers


@pytest.mark.parametrize(
    "path",
    [
        "../../../etc/passwd",
        "..%2F..%2Fetc%2Fpasswd",
        "%2e%2e/%2e%2e/etc/passwd",
        "/etc/passwd",
        "data/table.csv",
        ".hidden",
        "notes/../table.csv",
    ],
)
async def test_downloads_only_serve_manifest_paths(call, share, path):
    d = await share(files={"data/table.csv": "a\n", "data/.hidden": "secret\n", "data/notes/x.txt": "x"})
    r = await call("GET", "datashare", "d", d["id"], "files", path, anon=True)
    assert r.code in (400, 404), r.code
    assert b"root:" not in r.body and b"secret" not in r.body


async def test_hidden_files_are_not_shared_unless_asked(call, share):
    d = await share(files={"data/table.csv": "a\n", "data/.env": "API_KEY=1\n", "data/.git/config": "x"})
    assert [f["path"] for f in d["files"]] == ["table.csv"]
    d2 = await share(include_hidden=True, files={"data/table.csv": "a\n", "data/.env": "API_KEY=1\n"})
    assert ".env" in [f["path"] for f in d2["files"]]


async def test_prefix_and_symlink_tricks_are_refused(call, server_root):
    import os

    sibling = server_root.parent / (server_root.name + "2")
    sibling.mkdir()
    (sibling / "private.csv").write_text("ssn\n")
    os.symlink(sibling, server_root / "twin")
    os.symlink(sibling / "private.csv", server_root / "alias.csv")
    for path in ("twin/private.csv", "alias.csv", "twin", f"../{sibling.name}/private.csv"):
        r = await call("POST", "datashare", "api", "datasets", body={"path": path, "title": "t"})
        assert r.code == 400 and json.loads(r.body)["field"] == "path", path
    assert (await call.json("GET", "datashare", "api", "datasets"))["datasets"] == []


@pytest.mark.parametrize(
    "parts",
    [
        ("datashare", "d", "%2F%2Fevil.example"),
        ("datashare", "r", "https:", "", "", "evil.example"),
        ("datashare", "r", "%2F%2Fevil.example", "files", "x"),
        ("datashare", "c", "anything"),
    ],
)
async def test_no_open_redirects(call, parts):
    r = await call("GET", *parts, anon=True)
    assert r.code in (400, 404) and "Location" not in r.headers


async def test_cross_origin_api_writes_are_refused(call, share, jp_fetch):
    """A page elsewhere cannot drive the owner API with the browser's cookie (XSRF)."""
    r = await jp_fetch("datashare", "api", "datasets", method="POST", body=json.dumps({"path": "x", "title": "t"}),
                       headers={"Authorization": "", "Origin": "https://evil.example", "Cookie": "_xsrf=abc"},
                       raise_error=False)  # fmt: skip
    assert r.code in (403, 404)
