"""Clients for a cluster (tests/cluster.py) under load: timed calls, slow downloads, the owner
and committee API, access requests as a browser sends them, the CLI as another process, and a
process of its own that sends POSTs the moment it is told to.

Every request carries an ``X-Test-Id`` header, which nginx's access log records (``id``), so that
what the client saw and what nginx did with it (which process, which status) can be matched.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field

import httpx

from tests.cluster import REPO, Cluster

PURPOSE = ("We will estimate how sleep duration relates to reported stress in adults, as a replication "
           "of the published analysis, using the anonymised questionnaire answers only.")  # fmt: skip


@dataclass
class Call:
    """One client request: what it got and when it was open (wall clock, as nginx logs)."""

    id: str
    file: str = ""  # for downloads
    start: float = 0.0
    end: float = 0.0
    status: int | None = None
    received: int = 0  # body bytes
    sha256: str = ""
    error: str = ""
    body: dict = field(default_factory=dict)


async def timed(call: Call, coro):
    call.start = time.time()
    try:
        r = await coro
        call.status = r.status_code
        try:
            call.body = r.json()
        except ValueError:
            call.body = {"text": r.text[:300]}
    except httpx.HTTPError as exc:
        call.error = repr(exc)
    finally:
        call.end = time.time()
    return call


async def download(client, url: str, call: Call, forwarded: str | None, started: list, hold=None) -> Call:
    """GET ``url`` reading slowly; ``started`` gets the call once its first byte arrives. With
    ``hold`` (an event) it reads nothing more until the event is set: the server cannot send more
    than the sockets between them hold, so a large file is still being sent then."""
    digest = hashlib.sha256()
    call.start = time.time()
    try:
        headers = {"X-Test-Id": call.id, **({"X-Forwarded-For": forwarded} if forwarded else {})}
        async with client.stream("GET", url, headers=headers) as r:
            call.status = r.status_code
            async for chunk in r.aiter_raw():
                if not call.received and chunk:
                    started.append(call)
                call.received += len(chunk)
                digest.update(chunk)
                if hold is not None:
                    await hold.wait()
                else:
                    await asyncio.sleep(0.01)  # a slow reader: nginx (unbuffered) and the server wait for it
    except httpx.HTTPError as exc:
        call.error = repr(exc)
    finally:
        call.end = time.time()
        call.sha256 = digest.hexdigest()
    return call


class Owner:
    """The owner (and bob, a committee member) through nginx."""

    def __init__(self, client: httpx.AsyncClient, cluster: Cluster):
        self.client, self.c = client, cluster

    def post(self, path: str, body: dict, test_id: str, headers=None):
        hdrs = {**(headers or self.c.headers), "X-Test-Id": test_id}
        return self.client.post(self.c.url + path, json=body, headers=hdrs)

    async def json(self, method: str, path: str, expect=200, base: str = "", **kw):
        kw.setdefault("headers", self.c.headers)
        r = await self.client.request(method, (base or self.c.url) + path, **kw)
        assert r.status_code == expect, (method, path, r.status_code, r.text[:500], self.c.logs())
        return r.json()


async def submit_request(client: httpx.AsyncClient, c: Cluster, dataset_id: str, n: int, call: Call) -> Call:
    """An access request as a browser sends it: the landing page (XSRF cookie), then the form. If
    the page fails, ``call`` becomes that page's call (its own X-Test-Id)."""
    forwarded = {"X-Forwarded-For": f"10.88.0.{n + 1}", "X-Test-Id": call.id}
    async with httpx.AsyncClient(timeout=120) as browser:  # its own cookie jar
        page = Call(call.id + "-page")
        await timed(page, browser.get(c.url + f"datashare/d/{dataset_id}", headers={**forwarded, "X-Test-Id": page.id}))
        if page.status != 200:
            call.__dict__.update(page.__dict__)
            return call
        xsrf = browser.cookies["_xsrf"]
        body = {"name": f"Requester {n}", "email": f"requester{n}@uni.example", "institution": "Example University",
                "purpose": PURPOSE, "intended_use": ["HMB"], "accept_agreement": True,
                "requested_days": 90}  # fmt: skip
        headers = {**forwarded, "X-XSRFToken": xsrf, "Accept": "application/json"}
        form = browser.post(c.url + f"datashare/d/{dataset_id}/request", json=body, headers=headers)
        return await timed(call, form)


def cli(c: Cluster, *args) -> subprocess.CompletedProcess:
    """``jupyter datashare`` as a third process: it reads the cluster's config (database, data dir)."""
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(c.config_dir), JUPYTER_RUNTIME_DIR=str(c.dir / "runtime-cli"))
    return subprocess.run([sys.executable, "-m", "jupyter_datashare.cli", "--root-dir", str(c.root_dir), *args],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=120)  # fmt: skip


SENDER = """
import json, sys, threading, time
import httpx

base, jobs, seconds = json.loads(sys.stdin.readline())
clients = [httpx.Client(base_url=base, timeout=120) for _ in jobs]
print("ready", flush=True)
sys.stdin.readline()
until = time.time() + seconds
out = [[] for _ in jobs]

def send(i):
    test_id, path, body, headers, repeat = jobs[i]
    n = 0
    while True:
        got = {"id": f"{test_id}-{n}" if repeat else test_id, "n": n, "start": time.time()}
        try:
            r = clients[i].post(path, json=json.loads(json.dumps(body).replace("{n}", str(n))),
                                headers={**headers, "X-Test-Id": got["id"]})
            got["status"], got["text"] = r.status_code, r.text
        except httpx.HTTPError as exc:
            got["error"] = repr(exc)
        got["end"] = time.time()
        out[i].append(got)
        n += 1
        if not repeat or time.time() > until:
            return

threads = [threading.Thread(target=send, args=(i,)) for i in range(len(jobs))]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps(out), flush=True)
"""


class Sender:
    """POSTs from a process of their own (ready beforehand), sent when told, however busy the
    test's own loop is: each job ``(id, path, body, headers, repeat)`` is sent once, or with
    ``repeat`` again and again (``{n}`` in its body numbered, ids ``id-n``) for ``seconds``, so
    that one is open whenever the kill comes."""

    def __init__(self, base: str, jobs: list[tuple[str, str, dict, dict, bool]], seconds: float):
        self.proc = subprocess.Popen([sys.executable, "-c", SENDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)  # fmt: skip
        self.proc.stdin.write(json.dumps([base, jobs, seconds]) + "\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline() == "ready\n"
        self.sent = False

    def go(self) -> None:
        if not self.sent:
            self.sent = True
            self.proc.stdin.write("go\n")
            self.proc.stdin.flush()

    def results(self) -> list[list[tuple[int, Call]]]:
        """Per job, each request sent: its number and its call."""
        self.go()  # if the test failed before it did
        out, _ = self.proc.communicate(timeout=180)
        results = []
        for sent in json.loads(out.strip().splitlines()[-1]):
            calls = []
            for got in sent:
                call = Call(got["id"], start=got["start"], end=got["end"], status=got.get("status"),
                            error=got.get("error", ""))  # fmt: skip
                try:
                    call.body = json.loads(got.get("text") or "null") or {}
                except ValueError:
                    call.body = {"text": got["text"][:300]}
                calls.append((got["n"], call))
            results.append(calls)
        return results


async def export(owner: Owner, action: str) -> list[dict]:
    r = await owner.client.get(owner.c.url + "datashare/api/audit", params={"format": "jsonl", "action": action},
                               headers=owner.c.headers)  # fmt: skip
    assert r.status_code == 200, r.text[:300]
    return [json.loads(line) for line in r.text.splitlines() if line.strip()]
