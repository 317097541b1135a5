"""Sharing and publishing a version as a background job, and ``datashare/api/jobs/{id}``.

``POST api/datasets?async=1`` (or ``Prefer: respond-async``) checks the body at once, exactly
as the direct request does (a bad field is a 400 naming it, and nothing is stored), then
answers 202 with ``Location: .../api/jobs/{id}``; the freeze runs in a thread. The job's owner
polls it for progress; when done it carries the same view of the dataset the direct request
answers with, and the committee links once.

Any server process on the same database answers for the job (core/jobs.py keeps it in the
``jobs`` table). The committee links, being secrets, are only in the memory of the process that
ran the job: another process answers the finished job without them and says so in
``committee_links_note`` (new links are made by changing the committee, see ``LINKS_ELSEWHERE``).
"""

from __future__ import annotations

import hmac

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import url_path_join
from tornado import web

from ..core import datasets
from ..core.errors import InvalidInput
from ..core.jobs import DONE, RUNNING, Job
from .api import DatasetView
from .base import OwnerAPIHandler


LINKS_ELSEWHERE = (
    "the committee members' links were made by another server process and are shown only there, once "
    "(secrets are never stored). To give an external member a new link, take them off the committee with "
    "PATCH datashare/api/datasets/{id} {{\"committee\": ...}}, then add them again the same way: that answer "
    "shows their new link once, in committee_links (if the committee cannot reach its quorum without them, "
    "put someone else in their place for the first step)"
)
NO_NOTE = {"dataset": None, "committee_links": [], "committee_links_note": None}


def wants_async(handler) -> bool:
    """``?async=1`` or ``Prefer: respond-async`` (RFC 7240) asks for a job instead of waiting."""
    flag = handler.get_query_argument("async", None)
    if flag is not None:
        if flag.lower() not in ("1", "true", "0", "false", ""):
            raise InvalidInput("async", "must be 1 (run as a job) or 0")
        return flag.lower() in ("1", "true")
    prefer = handler.request.headers.get("Prefer", "")
    return "respond-async" in (p.split("=")[0].strip().lower() for p in prefer.replace(";", ",").split(","))


def job_owner(handler) -> str:
    """Who a job belongs to: the Jupyter user, or whoever holds the server's own token.

    That token names no one: jupyter-server makes up a new anonymous user for each request
    that carries it without a login cookie (a script, curl), so its holder is one person.
    """
    if handler.datashare.settings.many_owners:  # the service: a token names its one user
        return "user:" + handler.current_user.username
    server_token = handler.token
    sent = handler.identity_provider.get_token(handler) if server_token else None
    if sent and hmac.compare_digest(sent.encode(), server_token.encode()):
        return "token"
    return "user:" + handler.current_user.username


def accepted(handler, job: Job) -> None:
    handler.set_header("Location", url_path_join(handler.base_url, handler.prefix, "api", "jobs", job.id))
    if "respond-async" in handler.request.headers.get("Prefer", ""):
        handler.set_header("Preference-Applied", "respond-async")
    handler.send_json({"job": accepted_view(job)}, 202)


def accepted_view(job: Job) -> dict:
    """The job as the 202 shows it: accepted and running. A tiny share may already be frozen by
    now, but its dataset and committee links are handed out at ``Location`` (the links once): a
    202 saying "done" without them left the panel with a finished job and no dataset."""
    return job.view() | NO_NOTE | {"state": RUNNING, "finished": None, "error": None}


async def start_share(handler, body: dict) -> None:
    """Check the share now (a 400 if anything is wrong), then freeze it in the background."""
    ctx, client = handler.datashare, handler.client
    plan = await handler.in_thread(datasets.check_share, ctx, handler.owner, body)

    def work(job: Job) -> dict:
        dataset_id = datasets.freeze_and_share(ctx, plan, client=client, progress=job.add_bytes,
                                               file_done=job.file_done, committee_links=job.secrets)  # fmt: skip
        return {"dataset_id": dataset_id, "version": 1}

    jobs = handler.settings["datashare_jobs"]
    accepted(handler, await handler.in_thread(jobs.start, "share", job_owner(handler), files_total=plan.files_total,
                                               bytes_total=plan.bytes_total, work=work))  # fmt: skip


async def start_version(handler, dataset_id: str, expected_files=None) -> None:
    """Check the dataset can get a version now, then freeze its current files in the background."""
    ctx, client = handler.datashare, handler.client
    plan = await handler.in_thread(datasets.check_new_version, ctx, handler.owner, dataset_id, expected_files)

    def work(job: Job) -> dict:
        number = datasets.freeze_new_version(ctx, plan, client=client, progress=job.add_bytes, file_done=job.file_done)
        return {"dataset_id": plan.dataset_id, "version": number}

    jobs = handler.settings["datashare_jobs"]
    accepted(handler, await handler.in_thread(jobs.start, "version", job_owner(handler), files_total=plan.files_total,
                                               bytes_total=plan.bytes_total, work=work))  # fmt: skip


class JobAPI(DatasetView, OwnerAPIHandler):
    """GET a job's progress and outcome; DELETE asks a running job to stop (nothing is stored)."""

    @property
    def jobs(self):
        return self.settings["datashare_jobs"]

    def _view(self, job: Job) -> dict:
        out = job.view() | NO_NOTE
        if job.state == DONE:
            out["dataset"] = self.owner_view(job.result["dataset_id"], job.result["version"])
            out["committee_links"] = self.committee_links(job.take_secrets())
            if job.links_elsewhere:
                out["committee_links_note"] = LINKS_ELSEWHERE.format(id=job.result["dataset_id"])
        return out

    @web.authenticated
    @authorized
    async def get(self, job_id):
        user = job_owner(self)
        self.send_json(await self.in_thread(lambda: self._view(self.jobs.get(user, job_id))))

    @web.authenticated
    @authorized
    async def delete(self, job_id):
        user = job_owner(self)
        self.send_json(await self.in_thread(lambda: self._view(self.jobs.cancel(user, job_id))))
