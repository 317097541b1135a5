"""Two server processes on one database and one store behind a real nginx behave as one, even when
one of them is killed mid-way (issue 10, item 3).

Through nginx (round-robin): 200 concurrent review-link downloads of a dataset stored encrypted
(a 3 MiB file read slowly, and a 48 MiB one whose few readers pause after their first bytes, so
that the killed process is certainly still sending some), while shares, new review links, access
requests on the public form, committee decisions and the CLI (a third process sharing and making a
link) go on; one process is SIGKILLed once 40 downloads have bytes, and a third of the downloads
begin only after the kill. Then: every client that received a byte has its ``file.downloaded``
event (each client is told apart by its own X-Forwarded-For address, which ``trusted_proxies``
makes the recorded client); the audit chain verifies (over the API and with the CLI); the only
5xx are 502s of requests that nginx had passed to the killed process and that were open when it
died; the surviving process keeps serving; nothing a failed request started is left half-done.
The killed process then starts again on the same database and serves. On SQLite, and on
PostgreSQL under DATASHARE_TEST_DB_URL (scripts/test-all.sh runs both).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import time

import httpx
import pytest

from tests.cluster import Cluster, NginxMissing, find_nginx
from tests.cluster_clients import Call, Owner, Sender, cli, download, export, submit_request, timed
from tests.conftest import db_url_for

DOWNLOADS = 200
SMALL, LARGE = 3 << 20, 48 << 20  # 3 MiB (48 encrypted segments) and more than the sockets between hold
HOLDERS = 6  # clients of the large file that stop reading after their first bytes until the kill
SHARES = LINKS = REQUESTS = 5
BOB = {"Authorization": "token bob-token"}
AGREEMENT = "I will not re-identify participants and will delete the data when my access ends."


def address(i: int) -> str:
    """The client address of download ``i`` (what nginx forwards and the audit log records)."""
    return f"10.77.{i // 250}.{i % 250 + 1}"


def test_two_processes_behind_nginx_stay_one_when_one_is_killed(tmp_path):
    try:
        find_nginx()
    except NginxMissing as exc:  # CI installs it (scripts/test-all.sh): its absence is a failure
        pytest.fail(str(exc))
    data = {"scan.bin": os.urandom(SMALL), "volume.bin": os.urandom(LARGE)}
    with Cluster(tmp_path, db_url_for(tmp_path / "cluster" / "data"), processes=2) as c:
        (c.root_dir / "review").mkdir()
        for name, content in data.items():
            (c.root_dir / "review" / name).write_bytes(content)
        (c.root_dir / "cohort").mkdir()
        (c.root_dir / "cohort" / "answers.csv").write_text("subject,hours\ns1,7\ns2,6\n")
        (c.root_dir / "clibatch").mkdir()
        (c.root_dir / "clibatch" / "values.csv").write_text("id,value\ncli,1\n")
        for k in range(SHARES):
            (c.root_dir / f"batch{k}").mkdir()
            (c.root_dir / f"batch{k}" / "values.csv").write_text(f"id,value\n{k},{k * 10}\n")
        try:
            asyncio.run(Storm(c, data).run())
        except BaseException:
            print(c.logs())  # shown with the failure
            raise


class Storm:
    """The scenario: set-up, the concurrent load with the kill, then what must hold."""

    killed = 1  # the process SIGKILLed

    def __init__(self, c: Cluster, data: dict[str, bytes]):
        self.c, self.data = c, data
        self.want = {name: (len(content), hashlib.sha256(content).hexdigest()) for name, content in data.items()}
        self.downloads = [Call(f"dl-{i}", "volume.bin" if i < HOLDERS else "scan.bin") for i in range(DOWNLOADS)]
        self.shares = [Call(f"share-{k}") for k in range(SHARES)]  # round 2: see load()
        # What each share is: its folder, title and file's content.
        self.titles = {f"share-{k}": (f"batch{k}", f"Batch {k}", f"id,value\n{k},{k * 10}\n") for k in range(SHARES)}
        self.links = [Call(f"link-{k}") for k in range(LINKS)]
        self.requests = [Call(f"request-{n}") for n in range(REQUESTS)]
        self.decisions = [Call(f"decision-{n}") for n in range(REQUESTS)]
        self.kill_at = self.dead_at = 0.0  # SIGKILL sent, process reaped (wall clock)
        self.victim = c.servers[self.killed].address
        self.log: dict[str, dict] = {}
        self.cli_runs: dict[str, subprocess.CompletedProcess] = {}

    async def run(self) -> None:
        limits = httpx.Limits(max_connections=DOWNLOADS + 50, max_keepalive_connections=0)
        async with httpx.AsyncClient(timeout=120, limits=limits) as client:
            self.client, self.owner = client, Owner(client, self.c)
            await self.set_up()
            t0 = time.monotonic()
            await self.load()
            seconds = time.monotonic() - t0
            self.log = {row["id"]: row for row in self.c.access_log() if row["id"]}
            self.no_other_5xx()
            events = await self.check_downloads()
            await self.check_writes()
            await self.check_survivor()
            report = await self.check_restart()
        for command in (("audit", "verify"), ("store", "check")):  # a third process on the database
            done = cli(self.c, *command)
            assert done.returncode == 0, (command, done.stdout + done.stderr)
        complete = [d for d in self.downloads if self.is_complete(d)]
        cut = [d for d in self.downloads if d.received and not self.is_complete(d)]
        failed = [(w.id, w.status) for w in self.shares + self.links + self.requests + self.decisions
                  if w.status not in (200, 201)]  # fmt: skip
        print(f"\n{len(complete)} of {DOWNLOADS} downloads complete ({sum(d.start > self.kill_at for d in complete)} "
              f"begun after the kill), {len(cut)} cut short by it, {DOWNLOADS - len(complete) - len(cut)} refused; "
              f"{len(events)} file.downloaded events; {report['events']} events verify; load {seconds:.1f} s "
              f"(the killed process took {self.dead_at - self.kill_at:.3f} s to die); "
              f"writes that died with the process: {failed}")  # fmt: skip

    async def set_up(self) -> None:
        """Through nginx: a reviewer-only dataset (stored encrypted) and its review link; a restricted
        dataset whose committee (bob) decides; requests waiting for a decision."""
        owner = self.owner
        self.review = await owner.json("POST", "datashare/api/datasets", 201, json={
            "path": "review", "title": "Scans for review", "access": {"level": "reviewer-only"}})  # fmt: skip
        assert (self.c.data_dir / "store" / "encrypted" / self.review["id"]).is_dir()  # stored encrypted
        link = await owner.json("POST", f"datashare/api/datasets/{self.review['id']}/links", 201, json={"label": "R1"})
        assert link["url"].startswith(self.c.url)  # public_base_url: links point at the proxy
        self.files_url = link["url"] + "/files/"
        self.cohort = await owner.json("POST", "datashare/api/datasets", 201, json={
            "path": "cohort", "title": "Sleep cohort", "access": {"level": "restricted"}, "use_conditions": ["HMB"],
            "agreement": AGREEMENT, "committee": {"members": ["bob"], "required_approvals": 1}})  # fmt: skip
        for n in range(REQUESTS):
            made = await submit_request(self.client, self.c, self.cohort["id"], n, Call(f"pre-{n}"))
            assert made.status == 201, made
        pending = await owner.json("GET", "datashare/api/requests", params={"status": "pending"}, headers=BOB)
        self.request_ids = [r["id"] for r in pending["requests"]]
        assert len(self.request_ids) == REQUESTS

    async def load(self) -> None:
        """Two thirds of the downloads start at once (10 ms apart), writes among them; the process
        is killed once 40 downloads have bytes, the holders among them; the other third of the
        downloads and more writes start just after the kill, while many of the first ones still run."""
        c, owner, review = self.c, self.owner, self.review["id"]
        started: list[Call] = []
        killed = asyncio.Event()

        async def later(delay, coro, after_kill=False):
            if after_kill:
                await killed.wait()
            await asyncio.sleep(delay)
            return await coro

        first = DOWNLOADS * 2 // 3
        tasks = []
        for i, d in enumerate(self.downloads):
            hold = killed if i < HOLDERS else None
            get = download(self.client, self.files_url + d.file, d, address(i), started, hold)
            tasks.append(later(i * 0.01, get) if i < first else later((i - first) * 0.01, get, after_kill=True))

        def writes(k: int, owner: Owner, after: bool = False) -> list:
            """Round ``k``: a share, a new link, a request on the public form, a decision."""
            share, link, request, decision = self.shares[k], self.links[k], self.requests[k], self.decisions[k]
            at, step = 0.3 * (k - 3) if after else 0.4 * k, 0.05
            body = {"path": f"batch{k}", "title": f"Batch {k}"}
            new_link = owner.post(f"datashare/api/datasets/{review}/links", {"label": f"Reviewer {k + 2}"}, link.id)
            form = submit_request(owner.client, c, self.cohort["id"], REQUESTS + k, request)
            approve = owner.post(f"datashare/api/requests/{self.request_ids[k]}/decision", {"decision": "approve"},
                                 decision.id, BOB)  # fmt: skip
            return [later(at, timed(share, owner.post("datashare/api/datasets", body, share.id)), after),
                    later(at + step, timed(link, new_link), after), later(at + 2 * step, form, after),
                    later(at + 3 * step, timed(decision, approve), after)]  # fmt: skip

        # Rounds 0 and 1 among the first downloads, 2 just before the kill (so that some are open
        # on the killed process when it dies: a process of its own sends its POSTs, however busy
        # this one is), 3 and 4 after it.
        tasks += writes(0, owner) + writes(1, owner) + writes(3, owner, after=True) + writes(4, owner, after=True)
        # Shares and links again and again from just before the kill to just after it, the decision once.
        sender = Sender(c.url, [
            ("burst-share", "datashare/api/datasets", {"path": "batch2", "title": "Burst {n}"}, c.headers, True),
            ("burst-link", f"datashare/api/datasets/{review}/links", {"label": "Burst reviewer {n}"}, c.headers, True),
            (self.decisions[2].id, f"datashare/api/requests/{self.request_ids[2]}/decision", {"decision": "approve"},
             BOB, False),
        ], seconds=0.5)  # fmt: skip

        async def command(name, *args):  # the CLI, a process of its own on the same database and store
            self.cli_runs[name] = await asyncio.to_thread(cli, c, *args)

        cli_share = command("share", "share", "clibatch", "--title", "CLI batch", "--level", "reviewer-only")
        tasks.append(later(0.5, cli_share))
        tasks.append(later(1.0, command("link", "link", "create", review, "--label", "CLI reviewer")))

        async def ready():
            while len(started) < 40 or any(not d.received for d in self.downloads[:HOLDERS]):
                await asyncio.sleep(0.01)

        async def killer():
            try:
                await asyncio.wait_for(ready(), 120)
            finally:  # never leave the holders waiting
                sender.go()
                in_flight.append(asyncio.ensure_future(submit_request(self.client, c, self.cohort["id"], REQUESTS + 2,
                                                                      self.requests[2])))  # fmt: skip
                await asyncio.to_thread(kill, 0.1)
                killed.set()

        def kill(delay):
            time.sleep(delay)  # round 2 sent by then, mostly not yet answered
            self.kill_at = time.time()
            c.kill(self.killed)
            self.dead_at = time.time()  # reaped: it accepts no connection any more

        in_flight: list[asyncio.Future] = []
        try:
            outcome = await asyncio.gather(killer(), *tasks, return_exceptions=True)
            outcome += await asyncio.gather(*in_flight, return_exceptions=True)
        finally:
            shares, links, [(_, decision)] = await asyncio.to_thread(sender.results)
        # Round 2's share and link are the sender's many.
        self.shares = [w for w in self.shares if w.id != "share-2"] + [call for _, call in shares]
        self.titles.update({call.id: ("batch2", f"Burst {n}", "id,value\n2,20\n") for n, call in shares})
        self.links = [w for w in self.links if w.id != "link-2"] + [call for _, call in links]
        self.decisions[2] = decision
        assert not isinstance(outcome[0], Exception), (
            f"40 downloads, the {HOLDERS} holders among them, never had bytes: "
            f"{[(d.id, d.status, d.error) for d in self.downloads[:HOLDERS] + started[:5]]}")  # fmt: skip
        failed = [x for x in outcome if isinstance(x, BaseException)]
        if failed:
            raise failed[0]

    def died_with_victim(self, call: Call) -> bool:
        """nginx passed it to the killed process (the last one it tried) and it was open while that
        process died: the only requests allowed to fail (nginx's 502) or to end short. "While":
        between the SIGKILL and the reaping, as the kernel still completes connections to the
        dying process's listening socket, then resets them (a POST sent there is lost, not
        replayed). nginx passes a request on to the other process only when it could not be sent
        or got no answer header, and never a POST once sent (see tests/cluster.py), so these are
        exactly the lost ones."""
        row = self.log.get(call.id)
        open_then = call.start <= self.dead_at and call.end >= self.kill_at
        return bool(row) and row["upstream"][-1:] == [self.victim] and open_then

    def explain(self, test_id: str) -> str:
        """One request as nginx and the client saw it, times relative to the kill."""
        row, call = self.log.get(test_id, {}), self.find(test_id)
        when = (f"open {call.start - self.kill_at:+.3f} s to {call.end - self.kill_at:+.3f} s after the SIGKILL "
                f"(reaped {self.dead_at - self.kill_at:+.3f} s)") if call else "no call"  # fmt: skip
        return (f"{test_id}: {row.get('method')} {row.get('uri')} -> {row.get('status')} via {row.get('upstream')} "
                f"({row.get('upstream_status')}), {when} around the kill of {self.victim}; client: "
                f"{call and (call.status, call.error, str(call.body)[:200])}")  # fmt: skip

    def find(self, test_id: str) -> Call | None:
        every = self.downloads + self.shares + self.links + self.requests + self.decisions
        return next((w for w in every if w.id == test_id), None)

    def is_complete(self, d: Call) -> bool:
        return d.status == 200 and d.received == self.want[d.file][0]

    def no_other_5xx(self) -> None:
        """Every 5xx nginx answered, set-up included, was a 502 of a request that died with the process."""
        calls = {w.id: w for w in self.downloads + self.shares + self.links + self.requests + self.decisions}
        bad = [row for row in self.log.values()
               if row["status"] >= 500 and not (row["status"] == 502 and row["id"] in calls
                                                 and self.died_with_victim(calls[row["id"]]))]  # fmt: skip
        assert not bad, "\n".join(self.explain(row["id"]) for row in bad)
        unlogged = [row for row in self.c.access_log() if row["status"] >= 500 and not row["id"]]
        assert not unlogged, unlogged

    async def check_downloads(self) -> list[dict]:
        """Intact or cut short by the kill; every client that received a byte has its event."""
        broken = [d for d in self.downloads if not self.is_complete(d)]
        complete = [d for d in self.downloads if self.is_complete(d)]
        assert all(d.sha256 == self.want[d.file][1] for d in complete), "a download received wrong bytes"
        unexplained = [self.explain(d.id) + f", {d.received} bytes" for d in broken if not self.died_with_victim(d)]
        assert not unexplained, "\n".join(unexplained)
        assert any(d.received for d in broken), "the kill cut no download short: it did not happen mid-stream"
        assert any(d.start > self.kill_at for d in complete), "no download begun after the kill completed"
        events = await export(self.owner, "file.downloaded")
        # Each client is its own address (X-Forwarded-For, believed from nginx: trusted_proxies).
        recorded = {(e["client"], e["file"]) for e in events if e["dataset_id"] == self.review["id"]}
        received = [(d.id, address(i), d.file) for i, d in enumerate(self.downloads) if d.received]
        missing = [r for r in received if r[1:] not in recorded]
        assert not missing, f"clients received bytes without a file.downloaded event: {missing}"
        return events

    async def check_writes(self) -> None:
        """Each write succeeded or died with the process, and a lost one left nothing half-done: a
        share is absent (and can be made again) or whole (committed before the kill, files and
        event); a decision was recorded once or not at all (and can be made again)."""
        owner, c = self.owner, self.c
        for calls, ok in ((self.shares, 201), (self.links, 201), (self.requests, 201), (self.decisions, 200)):
            for w in calls:
                assert w.status == ok or self.died_with_victim(w), self.explain(w.id)
        mine = (await owner.json("GET", "datashare/api/datasets"))["datasets"]
        for w in self.shares:
            path, title, content = self.titles[w.id]
            made = [d["id"] for d in mine if d["title"] == title]
            assert len(made) == 1 or (w.status != 201 and not made), (w, made)
            if not made:  # lost with the process: the same share again works
                body = {"path": path, "title": title}
                made = [(await owner.json("POST", "datashare/api/datasets", 201, json=body))["id"]]
            view = await owner.json("GET", f"datashare/api/datasets/{made[0]}")
            got = await self.client.get(c.url + view["files"][0]["url"].lstrip("/"), headers=c.headers)
            assert (got.status_code, got.text) == (200, content)
        shared = [e["dataset_id"] for e in await export(owner, "dataset.shared")]
        mine = (await owner.json("GET", "datashare/api/datasets"))["datasets"]
        assert sorted(shared) == sorted(d["id"] for d in mine), "a dataset without its one dataset.shared event"
        for name, done in self.cli_runs.items():  # the CLI's share and link, made during the load
            assert done.returncode == 0, (name, done.stdout, done.stderr)
        made = self.cli_runs["share"].stdout.split()[1].rstrip(":")  # "shared ds-…: CLI batch (…)"
        assert [d["title"] for d in mine if d["id"] == made] == ["CLI batch"], self.cli_runs["share"].stdout
        link = self.cli_runs["link"].stdout.split()[0]  # its URL, on nginx (public_base_url)
        part = await self.client.get(link + "/files/volume.bin", headers={"Range": "bytes=0-9"})
        assert (part.status_code, part.content) == (206, self.data["volume.bin"][:10])
        for w in self.links:
            if w.status == 201:  # the new link works through either process
                assert (await self.client.get(w.body["url"], headers={"Accept": "application/json"})).status_code == 200
        for n, w in enumerate(self.decisions):
            request_id = self.request_ids[n]
            view = await owner.json("GET", f"datashare/api/requests/{request_id}", headers=BOB)
            assert view["status"] in ("approved", "pending") and (w.status != 200 or view["status"] == "approved"), view
            if view["status"] == "pending":
                await owner.json("POST", f"datashare/api/requests/{request_id}/decision", json={"decision": "approve"},
                                 headers=BOB)  # fmt: skip
        recorded = [e["details"]["request"] for e in await export(owner, "decision.recorded")]
        assert sorted(recorded) == sorted(self.request_ids), "a decision recorded twice or lost"

    async def check_survivor(self) -> None:
        """The surviving process keeps serving (nginx sends everything there now)."""
        again = await download(self.client, self.files_url + "scan.bin", Call("after"), "10.99.0.1", [])
        assert (again.status, again.received, again.sha256) == (200, *self.want["scan.bin"])
        await self.owner.json("POST", f"datashare/api/datasets/{self.review['id']}/links", 201, json={"label": "after"})
        report = await self.owner.json("GET", "datashare/api/audit/verify")
        assert report["ok"], report

    async def check_restart(self) -> dict:
        """The killed process starts again on the same database and store, and serves."""
        self.c.restart(self.killed)
        direct = self.c.servers[self.killed].url
        assert (await self.client.get(direct + "datashare/api/datasets", headers=self.c.headers)).status_code == 200
        url = direct + self.files_url[len(self.c.url):] + "volume.bin"
        back = await download(self.client, url, Call("restarted"), None, [])
        assert (back.status, back.received, back.sha256) == (200, *self.want["volume.bin"])
        report = await self.owner.json("GET", "datashare/api/audit/verify", base=direct)
        assert report["ok"], report
        return report
