"""A real notebook kernel shares and reads through the notebook API while the server serves the
same store: two processes appending to one audit log, which must stay one valid chain."""

import json
import os
import sys
import textwrap

import pytest
from jupyter_client.manager import start_new_kernel

from tests.conftest import path_of


def run_in_kernel(kc, code: str) -> dict:
    out = []

    def hook(msg):
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            out.append("\n".join(msg["content"]["traceback"]))

    reply = kc.execute_interactive(textwrap.dedent(code), timeout=120, output_hook=hook)
    assert reply["content"]["status"] == "ok", "".join(out)
    return json.loads("".join(out).strip().splitlines()[-1])


@pytest.fixture
def kernel(server_root, ctx):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(server_root), env=env)
    run_in_kernel(kc, f"""
        import json, pandas as pd, jupyter_datashare as ds
        ds.connect(root_dir={str(server_root)!r}, data_dir={ctx.settings.data_dir!r}, db_url={ctx.settings.db_url!r},
                   owner="ada-owner", base_url="http://localhost:8888/")
        print(json.dumps({{"ok": True}}))
    """)
    yield kc
    kc.stop_channels()
    km.shutdown_kernel(now=True)


async def test_kernel_and_server_share_one_store(call, share, kernel, ctx):
    made = run_in_kernel(kernel, """
        df = pd.DataFrame({"site": ["A", "B", "C"], "count": [3, 5, 8]})
        d = ds.share(df, title="From the kernel", name="counts", level="reviewer-only")
        link = ds.link(d.id, label="Reviewer 1")
        print(json.dumps({"id": d.id, "url": link.url}))
    """)
    listed = await call.json("GET", "datashare", "api", "datasets")
    assert made["id"] in [x["id"] for x in listed["datasets"]]
    r = await call("GET", *path_of(made["url"]), "files", "counts.csv", anon=True)
    assert r.code == 200 and r.body == b"site,count\nA,3\nB,5\nC,8\n"

    server_side = await share(access={"level": "restricted"}, committee={"members": ["bob"]})
    back = run_in_kernel(kernel, f"""
        t = ds.read({server_side["id"]!r}, "table.csv")
        print(json.dumps({{"values": t["value"].tolist()}}))
    """)
    assert back["values"] == [10, 20]
    report = await call.json("GET", "datashare", "api", "audit", "verify")
    assert report["ok"], report
    actors = {e["client"] for e in (await call.json("GET", "datashare", "api", "audit", params={"limit": "100"}))["events"]}
    assert "notebook" in actors and "127.0.0.1" in actors
