from tests.conftest import link_for, path_of


async def test_share_and_review(call, share):
    d = await share(access={"level": "reviewer-only"})
    link = await link_for(call, d["id"], label="Reviewer 2")
    r = await call("GET", *path_of(link["url"]), anon=True, headers={"Accept": "application/json"})
    print(r.code, r.body[:300])
    assert r.code == 200
