"""The notebook API: one call to share a path or a DataFrame, read back by id or link URL."""

import pandas as pd
import pytest

import jupyter_datashare as ds
from jupyter_datashare.core.errors import InvalidInput, KeyUnavailable, NotFound


@pytest.fixture
def nb(tmp_path, server_root, clock):
    ctx = ds.connect(root_dir=str(server_root), data_dir=str(tmp_path / "data"), owner="ada-owner",
                     base_url="http://localhost:8888/", clock=clock)  # fmt: skip
    yield ctx
    ctx.close()


def test_share_a_dataframe_and_read_it_back(nb, server_root):
    df = pd.DataFrame({"site": ["A", "B"], "temp": [12.5, 13.1]})
    shared = ds.share(df, title="River temperatures", name="temps", level="reviewer-only")
    assert shared.files[0]["path"] == "temps.csv" and (server_root / "shared-data" / "temps.csv").exists()
    assert "River temperatures" in shared._repr_html_() and "reviewer-only" in shared._repr_html_()
    back = ds.read(shared.id)
    pd.testing.assert_frame_equal(back, df)
    link = ds.link(shared.id, label="Reviewer 2", days=7)
    assert link.url.startswith("http://localhost:8888/datashare/r/dsr_")
    pd.testing.assert_frame_equal(ds.read(link.url), df)
    actions = [e["action"] for e in nb.core.audit.events()]
    assert actions.count("file.downloaded") == 2  # non-open reads are audited, from the kernel too


def test_share_a_path_and_list(nb, make_files):
    make_files({"study/a.tsv": "x\ty\n1\t2\n"})
    shared = ds.share("study", title="Study", keywords=["demo"])
    assert [d.id for d in ds.list_datasets()] == [shared.id]
    assert ds.read(shared.id, "a.tsv")["y"].tolist() == [2]


def test_list_datasets_follows_every_page_and_takes_a_search_and_a_limit(nb, make_files, clock):
    from tests.core.test_catalogue import add_rows

    ids = add_rows(nb.core, 1_003, title="Wave {i}")
    assert [d["id"] for d in nb.datasets()] == ids[::-1]  # what list_datasets reads: all pages
    make_files({"study/a.tsv": "x\ty\n1\t2\n"})
    clock.advance(hours=1)  # after the rows above
    shared = ds.share("study", title="Study of waves")
    assert [d.id for d in ds.list_datasets(limit=2)] == [shared.id, ids[-1]]
    assert [d.id for d in ds.list_datasets(search="study")] == [shared.id]


def test_bad_input(nb, clock):
    df = pd.DataFrame({"nested": [{"a": 1}, {"b": 2}]})
    with pytest.raises(InvalidInput) as info:
        ds.share(df, title="Nested", format="csv")
    assert info.value.field == "data"
    with pytest.raises(InvalidInput) as info:
        ds.share(pd.DataFrame({"a": [1]}), title="x", format="xml")
    assert info.value.field == "format"
    shared = ds.share(pd.DataFrame({"a": [1]}), title="One", level="reviewer-only")
    with pytest.raises(InvalidInput) as info:
        ds.read("https://elsewhere.example/datashare/r/dsr_" + "A" * 43)
    assert info.value.field == "url"
    link = ds.link(shared.id, days=1)
    clock.advance(days=2)
    with pytest.raises(NotFound):
        ds.read(link.url)
    ds.revoke(link.info["id"])


def test_cite_from_the_notebook(nb):
    shared = ds.share(pd.DataFrame({"a": [1]}), title="Citable", creators=[{"name": "Ada Example"}])
    assert ds.cite(shared.id).startswith("Ada Example (2026). Citable (Version 1) [Data set].")
    assert ds.cite(shared.id, "bibtex").startswith("@misc{")
    assert ds.cite(shared.id, "datacite")["types"]["resourceTypeGeneral"] == "Dataset"
    assert "openly available" in ds.cite(shared.id, "availability")
    with pytest.raises(InvalidInput):
        ds.cite(shared.id, "ris")


def test_read_through_a_grant_link(nb, server_root):
    from jupyter_datashare.core import committee, grants, requests
    from jupyter_datashare.core.db import reading

    (server_root / "r").mkdir()
    (server_root / "r" / "t.csv").write_text("a,b\n1,2\n")
    shared = ds.share("r", title="Restricted", level="restricted", committee={"members": [{"name": "M", "email": "m@x.org"}]})
    body = {"name": "R", "email": "r@uni.example", "institution": "U", "purpose": "p" * 120, "intended_use": ["GRU"],
            "accept_agreement": True}  # fmt: skip
    req, status_secret = requests.submit(nb.core, shared.id, body, client="c")
    with reading(nb.core.engine) as s:
        (m,) = committee.active(s, shared.id)
    requests.decide(nb.core, req.id, m.id, "approve", None)
    url = f"http://localhost:8888/datashare/g/{grants.derive_secret(status_secret)}/files/t.csv"
    assert ds.read(url)["b"].tolist() == [2]
    assert "grant.used" in [e["action"] for e in nb.core.audit.events()]


def test_connect_with_a_master_key_file_reads_encrypted_data_only_with_that_key(tmp_path, server_root, clock):
    key_file = tmp_path / "datashare.key"
    settings = dict(root_dir=str(server_root), data_dir=str(tmp_path / "data"), owner="ada-owner", clock=clock)
    ctx = ds.connect(**settings, master_key_file=str(key_file))
    try:
        df = pd.DataFrame({"id": [1, 2]})
        shared = ds.share(df, title="Cohort", name="cohort", level="reviewer-only")
        pd.testing.assert_frame_equal(ds.read(shared.id), df)
    finally:
        ctx.close()
    assert len(key_file.read_bytes()) == 32 and not (tmp_path / "data" / "master.key").exists()
    ctx = ds.connect(**settings)  # the data dir alone cannot decrypt it
    try:
        with pytest.raises(KeyUnavailable, match="master key file .* is missing"):
            ds.read(shared.id)
    finally:
        ctx.close()


def test_connect_with_a_signing_key_file_signs_checkpoints_with_that_key(tmp_path, server_root, clock):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from jupyter_datashare.core import signing

    key_file = tmp_path / "secrets" / "signing.key"
    ctx = ds.connect(root_dir=str(server_root), data_dir=str(tmp_path / "data"), owner="ada-owner", clock=clock,
                     signing_key_file=str(key_file))  # fmt: skip
    try:
        ds.share(pd.DataFrame({"a": [1]}), title="Signed")
        note = ctx.core.audit.checkpoint()
    finally:
        ctx.close()
    assert not (tmp_path / "data" / signing.KEY_FILE).exists()
    public_key = signing.public_bytes(Ed25519PrivateKey.from_private_bytes(key_file.read_bytes()))
    assert signing.open_checkpoint(note, public_key).size == 1


@pytest.fixture
def against_service(tmp_path, server_root):
    """The notebook API in client mode: a real service process, alice's token in a file."""
    from .service.process import Service

    service = Service(tmp_path / "service")
    token_file = tmp_path / "token"
    token_file.write_text(service.token("alice"))
    service.start()
    backend = ds.connect(root_dir=str(server_root), service_url=f"http://127.0.0.1:{service.port}/",
                         service_token_file=str(token_file))  # fmt: skip
    yield service, backend
    backend.close()
    service.stop()


def test_the_notebook_works_the_same_against_a_service(against_service, server_root):
    service, backend = against_service
    assert backend.kind == "service"
    df = pd.DataFrame({"site": ["A", "B"], "temp": [12.5, 13.1]})
    shared = ds.share(df, title="River temperatures", name="temps", level="reviewer-only")
    assert shared.owner == "alice" and shared.url == f"http://127.0.0.1:{service.port}/d/{shared.id}"
    assert "1 files" in shared._repr_html_() or "review link" in shared._repr_html_()
    pd.testing.assert_frame_equal(ds.read(shared.id), df)
    link = ds.link(shared.id, label="Reviewer 2", days=7)
    assert link.url.startswith(f"http://127.0.0.1:{service.port}/r/dsr_")
    pd.testing.assert_frame_equal(ds.read(link.url), df)  # as the reviewer opens it, without the token
    assert [d.id for d in ds.list_datasets()] == [shared.id]
    assert [d.id for d in ds.list_datasets(search="river", limit=1)] == [shared.id]
    assert "River temperatures" in ds.cite(shared.id)
    ds.revoke(link.info["id"])
    with pytest.raises(NotFound):
        ds.read(link.url)
    with pytest.raises(InvalidInput) as info:
        ds.read(f"http://localhost:8888/datashare/r/dsr_{'A' * 43}")
    assert info.value.field == "url"
    with pytest.raises(InvalidInput) as info:  # the service names the bad field, as the core does
        ds.share(df, title="", name="again")
    assert info.value.field == "title"


def test_the_service_list_is_followed_page_by_page(against_service):
    from tests.core.test_catalogue import add_rows

    service, backend = against_service
    core = service.core()
    try:
        ids = add_rows(core, 1_004, owner="alice")
        add_rows(core, 3, owner="bob")  # another's: never listed
    finally:
        core.close()
    assert [d["id"] for d in backend.datasets()] == ids[::-1]  # two pages of 1,000, followed to the end
    assert [d["id"] for d in backend.datasets(limit=1_002)] == ids[::-1][:1_002]
    assert [d["id"] for d in backend.datasets(q="survey 1003")] == [ids[-1]]
