"""What the public may not see answers exactly like a dataset that does not exist (DESIGN §6):
same status, same body, same headers, so no file name, version count or existence leaks."""

import json

import pytest

from jupyter_datashare.core.secrets import new_id

FILES = {"data/table.csv": "id,value\n1,10\n", "data/notes/readme.txt": "about\n", "data/real.csv": "a\n1\n"}
TOKEN = "hidden-datasets-test-xsrf"
POST_HEADERS = {"Cookie": f"_xsrf={TOKEN}", "X-XSRFToken": TOKEN, "Content-Type": "application/json"}
VARIANTS = ({}, {"Accept": "application/json"}, {"Range": "bytes=0-1", "If-None-Match": '"x"'})


def probes(dataset_id):
    d = ("datashare", "d", dataset_id)
    files = [("files", "table.csv"), ("files", "real.csv"), ("files", "guess.csv"), ("files", "notes", "readme.txt")]
    out = [("GET", d, None), ("HEAD", d, None)]
    out += [("GET", d, {"version": n}) for n in ("1", "2", "9")]
    out += [(m, d + f, None) for f in files for m in ("GET", "HEAD")]
    out += [("GET", d + ("files", "real.csv"), {"version": n}) for n in ("1", "2", "9")]
    out += [("GET", d + ("citation",), None), ("GET", d + ("citation",), {"format": "bibtex"})]
    out += [("POST", d + ("request",), None)]
    return out


async def answer(call, method, parts, params, headers):
    kw = {"anon": True, "params": params, "headers": dict(headers)}
    if method == "POST":
        kw["headers"].update(POST_HEADERS)
        kw["raw_body"] = json.dumps({"name": "Eve", "email": "eve@example.org", "intended_use": ["GRU"]})
    r = await call(method, *parts, **kw)
    head = sorted((k, v) for k, v in r.headers.get_all() if k not in ("Date",))
    return r.code, r.body, head


async def assert_like_unknown(call, dataset_id):
    unknown = new_id("ds-")  # the same shape as a real id
    for method, parts, params in probes(dataset_id):
        for headers in VARIANTS:
            hidden = await answer(call, method, parts, params, headers)
            missing = await answer(call, method, [unknown if p == dataset_id else p for p in parts], params, headers)
            assert hidden == missing, (method, parts, params, headers)
            assert hidden[0] == 404


async def two_versions(call, share, make_files, **body):
    d = await share(files=FILES, **body)
    make_files({"data/extra.csv": "b\n2\n"})
    await call.json("POST", "datashare", "api", "datasets", d["id"], "versions", expect=201)
    return d


async def test_a_reviewer_only_dataset_answers_like_an_unknown_one(call, share, make_files):
    d = await two_versions(call, share, make_files, access={"level": "reviewer-only"})
    await assert_like_unknown(call, d["id"])


async def test_a_withdrawn_reviewer_only_dataset_answers_like_an_unknown_one(call, share, make_files):
    d = await two_versions(call, share, make_files, access={"level": "reviewer-only"})
    await call.json("DELETE", "datashare", "api", "datasets", d["id"], body={"reason": "retracted"})
    await assert_like_unknown(call, d["id"])


async def test_an_embargo_that_lifts_into_reviewer_only_hides_the_dataset(call, share, make_files, clock):
    d = await two_versions(call, share, make_files,
                           access={"level": "embargoed", "embargo_until": "2026-04-01", "after_embargo": "reviewer-only"})  # fmt: skip
    clock.advance(days=40)
    await assert_like_unknown(call, d["id"])


@pytest.mark.parametrize("level", ["embargoed", "restricted"])
async def test_closed_files_of_a_public_description_tell_only_what_its_landing_page_shows(call, share, make_files, level):
    access = {"level": level, "embargo_until": "2026-04-01"} if level == "embargoed" else {"level": level}
    extra = {} if level == "embargoed" else {"committee": {"members": ["bob"]}}
    d = await two_versions(call, share, make_files, access=access, **extra)
    for version in ("1", "2"):
        page = await call.json("GET", "datashare", "d", d["id"], anon=True, params={"version": version},
                               headers={"Accept": "application/json"})  # fmt: skip
        listed = {f["path"] for f in page["files"]}
        for name in ("table.csv", "real.csv", "extra.csv", "guess.csv", "notes/readme.txt"):
            r = await call("GET", "datashare", "d", d["id"], "files", *name.split("/"), anon=True, params={"version": version})
            assert r.code == (403 if name in listed else 404), (version, name)
            assert b"id,value" not in r.body and b"a\n1" not in r.body
