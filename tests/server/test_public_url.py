"""c.DataShareApp.public_base_url is the public address of the server's base_url (what a reverse
proxy maps to it): every generated link is it + datashare/…, whatever the server's own base_url.

A real server at /user/ada/ stands behind an imagined proxy that maps https://data.example.org/share/
to it; the links it hands out are followed on the server by their datashare/… part, as the proxy would.
"""

import json
import re
from urllib.parse import urlparse

import pytest

import jupyter_datashare as ds
from jupyter_datashare import cli
from jupyter_datashare.core.errors import InvalidInput
from tests.conftest import OWNER, link_for, path_of
from tests.server.test_requests import BOB, CAROL, JSON, share_restricted, submit
from tests.server.test_startup import start_server

PUBLIC = "https://data.example.org/share/"
PREFIX = "https://data.example.org/share/datashare/"
URL = re.compile(r"https?://[^\s\"'}<>\\]+")


@pytest.fixture
def jp_base_url():
    return "/user/ada/"


@pytest.fixture
def public_base_url():
    return PUBLIC


@pytest.fixture
def ds_config(ds_config, public_base_url):
    if public_base_url:
        ds_config["public_base_url"] = public_base_url
    return ds_config


def our_links(response) -> list[str]:
    """Every link to one of our pages in a response (JSON values, citation text, BibTeX alike);
    owner-API addresses (datashare/api/…) are for the panel on this server, not links to hand out."""
    text = response if isinstance(response, str) else json.dumps(response)
    found = [u for u in URL.findall(text) if "/datashare/" in u or urlparse(u).hostname == "data.example.org"]
    relative = re.findall(r'"(/[^"]*/datashare/[^"]*)"', text)
    return [u for u in found + relative if "/datashare/api/" not in u]


def assert_public(response) -> list[str]:
    links = our_links(response)
    assert links, "no link in the response"
    wrong = [u for u in links if not u.startswith(PREFIX)]
    assert not wrong, wrong
    return links


async def test_every_generated_link_is_public_base_url_plus_datashare(call, share, make_files):
    # A share (restricted, with an external committee member) and its landing page.
    restricted = await share_restricted(share)
    assert restricted["landing_page"] == PREFIX + f"d/{restricted['id']}"
    assert len(assert_public({k: restricted[k] for k in ("landing_page", "committee_links")})) == 2
    landing = json.loads((await call("GET", *path_of(restricted["landing_page"]), anon=True, headers=JSON)).body)
    assert landing["request_url"] == PREFIX + f"d/{restricted['id']}/request"
    assert_public(landing)

    # An access request: its status link, the committee member's page, the grant's downloads.
    sub = await submit(call, restricted["id"])
    assert sub["status_url"].startswith(PREFIX + "s/dss_")
    member = json.loads((await call("GET", *path_of(restricted["committee_links"][0]["url"]), anon=True,
                                    headers=JSON)).body)  # fmt: skip
    assert member["requests"] and not [u for u in our_links(member) if not u.startswith(PREFIX)]
    (req,) = (await call.json("GET", "datashare", "api", "requests", headers=BOB))["requests"]
    for who in (BOB, CAROL):
        await call.json("POST", "datashare", "api", "requests", req["id"], "decision", headers=who,
                        body={"decision": "approve"})  # fmt: skip
    status = json.loads((await call("GET", *path_of(sub["status_url"]), anon=True, headers=JSON)).body)
    assert status["status"] == "approved"
    table = next(f for f in status["files"] if f["path"] == "table.csv")
    assert table["url"].startswith(PREFIX + "g/dsg_") and table["url"].endswith("/files/table.csv")
    assert_public(status)
    got = await call("GET", *path_of(table["url"]), anon=True)
    assert got.code == 200 and got.body.startswith(b"id,value")

    # A review link and its page.
    make_files({"review/table.csv": "a\n1\n"})
    hidden = await share(path="review", access={"level": "reviewer-only"})
    link = await link_for(call, hidden["id"])
    assert link["url"].startswith(PREFIX + "r/dsr_")
    review = json.loads((await call("GET", *path_of(link["url"]), anon=True, headers=JSON)).body)
    assert review["files"][0]["url"] == link["url"] + "/files/table.csv"
    assert_public(review)
    page = (await call("GET", *path_of(link["url"]), anon=True)).body.decode()
    assert f'href="{link["url"]}/files/table.csv"' in page

    # An open dataset: its landing page, citation (text, BibTeX, DataCite) and the owner's citation API.
    make_files({"open/table.csv": "a\n1\n"})
    opened = await share(path="open", access={"level": "open"})
    landing_url = PREFIX + f"d/{opened['id']}"
    view = json.loads((await call("GET", *path_of(landing_url), anon=True, headers=JSON)).body)
    assert view["citation"]["bibtex_url"] == landing_url + "/citation?format=bibtex"
    assert landing_url in view["citation"]["text"] and view["files"][0]["url"] == landing_url + "/files/table.csv"
    assert_public(view)
    for fmt in ("json", "bibtex", "datacite"):
        cited = await call("GET", *path_of(landing_url), "citation", anon=True, params={"format": fmt})
        assert landing_url in assert_public(cited.body.decode())
    owners = await call.json("GET", "datashare", "api", "datasets", opened["id"], "citation")
    assert owners["datacite"]["url"] == landing_url
    assert_public(owners)
    # The owner's own API addresses stay on the server (the panel calls them there).
    assert opened["files"][0]["url"].startswith("/user/ada/datashare/api/datasets/")


@pytest.mark.parametrize("public_base_url", [""])
async def test_without_it_links_use_the_request_s_host_and_the_server_s_base_url(call, share, jp_http_port):
    restricted = await share_restricted(share)
    assert restricted["landing_page"] == f"/user/ada/datashare/d/{restricted['id']}"
    host = {"Host": f"localhost:{jp_http_port}"}  # (a non-local name is refused by jupyter-server)
    link = await call.json("POST", "datashare", "api", "datasets", restricted["id"], "links", headers=host,
                           body={"allow_restricted": True}, expect=201)  # fmt: skip
    assert link["url"].startswith(f"http://localhost:{jp_http_port}/user/ada/datashare/r/dsr_")
    assert restricted["committee_links"][0]["url"].startswith("http://")
    assert urlparse(restricted["committee_links"][0]["url"]).path.startswith("/user/ada/datashare/c/dsc_")
    sub = await submit(call, restricted["id"])
    assert urlparse(sub["status_url"]).path.startswith("/user/ada/datashare/s/dss_")
    landing = json.loads((await call("GET", "datashare", "d", restricted["id"], anon=True, headers=JSON)).body)
    assert landing["request_url"] == f"/user/ada/datashare/d/{restricted['id']}/request"


def write_server_config(jp_config_dir, ctx, root, public_base_url: str) -> None:
    """The running server's options, as a jupyter_server_config.py the CLI and the notebook read."""
    (jp_config_dir / "jupyter_server_config.py").write_text(
        f"c.ServerApp.root_dir = {str(root)!r}\n"
        "c.ServerApp.base_url = '/user/ada/'\n"
        f"c.DataShareApp.data_dir = {ctx.settings.data_dir!r}\n"
        f"c.DataShareApp.db_url = {ctx.settings.db_url!r}\n"
        f"c.DataShareApp.owner = {OWNER!r}\n"
        f"c.DataShareApp.public_base_url = {public_base_url!r}\n"
    )


async def test_the_cli_and_the_notebook_print_the_server_s_links(call, share, ctx, jp_config_dir, jp_root_dir,
                                                                 tmp_path, capsys, monkeypatch):  # fmt: skip
    write_server_config(jp_config_dir, ctx, jp_root_dir, PUBLIC)
    monkeypatch.chdir(tmp_path)
    d = await share(access={"level": "reviewer-only"})
    served = await link_for(call, d["id"])
    assert served["url"].startswith(PREFIX + "r/dsr_")

    assert cli.main(["link", "create", d["id"]]) == 0
    printed = capsys.readouterr().out.splitlines()[0]
    assert printed.startswith(PREFIX + "r/dsr_")
    assert cli.main(["show", d["id"], "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["landing_page"] == PREFIX + f"d/{d['id']}"
    assert cli.main(["cite", d["id"], "--format", "datacite"]) == 0
    assert json.loads(capsys.readouterr().out)["url"] == PREFIX + f"d/{d['id']}"

    nb = ds.connect()
    try:
        link = ds.link(d["id"])
        assert link.url.startswith(PREFIX + "r/dsr_")
        for url in (link.url, printed):  # (the CLI and the notebook run on the real clock, the server not)
            assert ds.read(url, "table.csv")["value"].tolist() == [10, 20]  # read back by their public URL
    finally:
        nb.close()


@pytest.mark.parametrize("bad", ["data.example.org/share/", "ftp://data.example.org/", "https:///share/",
                                 "https://data.example.org/share/?x=1", "https://data.example.org/#top",
                                 "https://data.example.org:port/"])  # fmt: skip
def test_a_bad_value_is_refused_by_the_cli_and_the_notebook_naming_the_option(bad, jp_environ, jp_config_dir,
                                                                              tmp_path, capsys):  # fmt: skip
    data = tmp_path / "datashare-data"
    args = ["list", "--data-dir", str(data), f"--DataShareApp.public_base_url={bad}"]
    assert cli.main(args) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"error: DataShareApp.public_base_url: {bad!r} ")
    (jp_config_dir / "jupyter_server_config.py").write_text(f"c.DataShareApp.public_base_url = {bad!r}\n")
    with pytest.raises(InvalidInput) as info:
        ds.connect(root_dir=str(tmp_path), data_dir=str(data))
    assert info.value.field == "DataShareApp.public_base_url"
    assert not data.exists()  # refused before anything was opened


def test_a_bad_value_stops_the_server_naming_the_option(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "jupyter_server_config.py").write_text(
        "c.DataShareApp.public_base_url = 'data.example.org/share/'\n"
    )
    code, out = start_server(tmp_path, tmp_path / "data")
    assert code != 0 and "is running at" not in out
    assert "DataShareApp.public_base_url: 'data.example.org/share/' must be an absolute http:// or https:// URL" in out


def test_the_demo_prints_public_links(jp_environ, jp_config_dir, tmp_path, capsys):
    (jp_config_dir / "jupyter_server_config.py").write_text(
        "c.ServerApp.base_url = '/user/ada/'\n"
        f"c.DataShareApp.data_dir = {str(tmp_path / 'datashare-data')!r}\n"
        f"c.DataShareApp.public_base_url = {PUBLIC!r}\n"
    )
    demo = tmp_path / "demo"
    assert cli.main(["--root-dir", str(demo), "demo", str(demo)]) == 0
    printed = [u for u in URL.findall(capsys.readouterr().out) if "/datashare/" in u]
    assert {u[len(PREFIX):].split("/")[0] for u in printed} == {"d", "r", "c"}
    assert all(u.startswith(PREFIX) for u in printed), printed
