"""The Jupyter extension in client mode (``c.DataShareApp.service_url``): the panel's API served by
forwarding to the datashare service, with the user's token; this server holds no database, no store
and no keys. Everything is the service's, except what only this server can do: read the files to
share from its own disk. So a share or a new version is a job here (progress and Stop as in local
mode) that uploads the files and has the service share them (``client/sharing.py``); every other
call goes to the service as it came (``datashare/api/X`` -> ``{service_url}api/X``), its answer
streamed back (downloads too, never whole in memory).
"""

from __future__ import annotations

from urllib.parse import urlparse

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import url_path_join
from tornado import web

from ..client import sharing
from ..client.connection import Service, ServiceError
from ..core.clients import TrustedProxies
from ..core.errors import NotFound
from ..core.jobs import DONE, Job, Jobs
from . import jobs as job_views
from .api import query_flag
from .base import OwnerAPIHandler
from .pages import Pages

# What a call passes on to the service, and what of its answer comes back (hop-by-hop and
# jupyter-server's own headers stay where they are).
REQUEST_HEADERS = ("Content-Type", "Accept", "Range", "If-Range", "If-None-Match", "If-Modified-Since", "Prefer")
ANSWER_HEADERS = ("Content-Type", "Content-Length", "Content-Disposition", "Content-Range", "Accept-Ranges", "ETag",
                  "Last-Modified", "Cache-Control", "Retry-After", "Preference-Applied", "X-Content-Type-Options")  # fmt: skip


class Remote:
    """What the handlers find as ``settings["datashare"]`` in client mode: the settings they read
    (who may act as the owner, the trusted proxies), the service, the clock."""

    def __init__(self, settings, service: Service, clock, never_uploaded: tuple[str, ...]):
        self.settings, self.service, self.clock = settings, service, clock
        self.trusted_proxies = TrustedProxies(settings.trusted_proxies)
        self.never_uploaded = never_uploaded  # config.never_uploaded: the local store, keys, token file

    def now(self):
        return self.clock.now()


def handler_settings(options, settings, service: Service, clock) -> dict:
    from ..config import never_uploaded

    return {
        "datashare": Remote(settings, service, clock, never_uploaded(options)),
        "datashare_jobs": Jobs(None, clock, threads=options.job_threads, keep_seconds=options.finished_job_seconds),
        "datashare_pages": Pages(),
    }


class ClientAPIHandler(OwnerAPIHandler):
    @property
    def service(self) -> Service:
        return self.datashare.service

    @property
    def jobs(self) -> Jobs:
        return self.settings["datashare_jobs"]

    async def prepare(self, *args, **kwargs):
        done = super().prepare(*args, **kwargs)
        if done is not None:
            await done
        # This server's owner only (owner_identities): anyone else it lets in would act at the
        # service with the owner's token. A committee member decides from their own server.
        if self.current_user is not None:
            self.require_owner()

    def our_location(self, location: str) -> str:
        """The service's ``Location`` (``{its base}api/…``) as the same place here (``datashare/api/…``);
        any other place is not followed (a 502)."""
        u, ours = urlparse(location), urlparse(self.service.url)
        if u.scheme or u.netloc:
            if (u.scheme, u.netloc) != (ours.scheme, ours.netloc):
                raise ServiceError(502, {"message": "the datashare service redirected elsewhere; not followed"})
        base = self.service.path_of("")
        if u.path.startswith(base + "api/"):
            return url_path_join(self.base_url, self.prefix, u.path[len(base):]) + (f"?{u.query}" if u.query else "")
        raise ServiceError(502, {"message": "the datashare service redirected outside its API; not followed"})

    async def forward(self, rel: str) -> None:
        """Send this request on to the service's ``rel`` and stream its answer back."""
        if any(p in (".", "..") for p in rel.split("/")):
            raise NotFound("no such route")
        headers = {h: v for h in REQUEST_HEADERS if (v := self.request.headers.get(h))}
        target = Service.quoted(rel) + ("?" + self.request.query if self.request.query else "")
        body = self.request.body or None
        reply = await self.in_thread(self.service.open, self.request.method, target, headers=headers, body=body,
                                     length=len(body) if body else None)  # fmt: skip
        try:
            location = self.our_location(reply.headers["location"]) if "location" in reply.headers else None
            self.set_status(reply.status)
            for h in ANSWER_HEADERS:
                if h.lower() in reply.headers:
                    self.set_header(h, reply.headers[h.lower()])
            if location is not None:
                self.set_header("Location", location)
            if self.request.method == "HEAD":
                return
            while chunk := await self.in_thread(reply.read):
                self.write(chunk)
                await self.flush()  # the reader sets the pace: never more than a chunk held here
        finally:
            reply.close()
        self.finish()

    async def run(self, kind: str, up: sharing.Upload, do) -> None:
        """As a job (``?async=1``: 202, then ``api/jobs/{id}``) or waiting for it (201)."""
        if job_views.wants_async(self):

            def work(job: Job) -> dict:
                done = do(progress=job.add_bytes, file_done=job.file_done, stop=lambda: job.add_bytes(0))
                # Handed out once, by the job's first answer after it is done (Job.take_secrets).
                job.secrets = [(link, link.get("url")) for link in done.get("committee_links") or []]
                return {"dataset": done["dataset"]}

            job = self.jobs.start(kind, job_views.job_owner(self), files_total=len(up.files),
                                  bytes_total=up.bytes_total, work=work)  # fmt: skip
            job_views.accepted(self, job)
            return
        done = await self.in_thread(do)
        out = dict(done["dataset"])
        if kind == "share":
            out["committee_links"] = done.get("committee_links") or []
            self.set_header("Location", url_path_join(self.base_url, self.prefix, "api", "datasets", out["id"]))
        self.send_json(out, 201)


class ForwardAPI(ClientAPIHandler):
    """Every call the service answers as it is: ``datashare/api/X`` -> ``{service_url}api/X``."""

    @web.authenticated
    @authorized
    async def get(self, rel):
        await self.forward("api/" + rel)

    head = post = put = patch = delete = get


class ShareAPI(ClientAPIHandler):
    """``POST api/datasets``: upload the folder, then the service shares it (a job with ``?async=1``)."""

    @web.authenticated
    @authorized
    async def get(self):
        await self.forward("api/datasets")

    @web.authenticated
    @authorized
    async def post(self):
        body = self.json_body()
        if query_flag(self, "check"):
            await self.forward("api/datasets")
            return
        root, never = self.datashare.settings.root_dir, self.datashare.never_uploaded

        def prepare():
            sharing.check(self.service, body)
            return sharing.plan(root, body.get("path"), body.get("include_hidden") is True, never)

        up = await self.in_thread(prepare)
        await self.run("share", up, lambda **hooks: sharing.share(self.service, root, body, up=up, **hooks))


class VersionsAPI(ClientAPIHandler):
    """``POST api/datasets/{id}/versions``: upload the dataset's folder as it is here now, then publish."""

    @web.authenticated
    @authorized
    async def get(self, dataset_id):
        await self.forward(f"api/datasets/{dataset_id}/versions")

    @web.authenticated
    @authorized
    async def post(self, dataset_id):
        root, never = self.datashare.settings.root_dir, self.datashare.never_uploaded

        def prepare():
            dataset = self.service.call("GET", "api/datasets/" + Service.quoted(dataset_id)).json()
            if dataset.get("withdrawn_at"):
                from ..core.errors import InvalidInput

                raise InvalidInput("id", "the dataset was withdrawn")
            # Hidden files never, whatever the service says of the dataset (sharing.new_version).
            return dataset, sharing.plan(root, dataset["source_path"], False, never)

        dataset, up = await self.in_thread(prepare)
        await self.run("version", up, lambda **hooks: sharing.new_version(self.service, root, dataset, up=up, **hooks))


class JobAPI(ClientAPIHandler):
    """A share or version of this server: its progress, its outcome, Stop (DELETE)."""

    def _view(self, job: Job) -> dict:
        out = job.view() | job_views.NO_NOTE
        if job.state == DONE:
            out["dataset"] = job.result["dataset"]
            out["committee_links"] = [link for link, _url in job.take_secrets()]
        return out

    @web.authenticated
    @authorized
    async def get(self, job_id):
        self.send_json(self._view(self.jobs.get(job_views.job_owner(self), job_id)))

    @web.authenticated
    @authorized
    async def delete(self, job_id):
        self.send_json(self._view(self.jobs.cancel(job_views.job_owner(self), job_id)))


def routes() -> list[tuple[str, type]]:
    """The routes of client mode, below ``datashare/`` (first match wins)."""
    return [
        (r"api/datasets", ShareAPI),
        (r"api/datasets/([^/]+)/versions", VersionsAPI),
        (r"api/jobs/([^/]+)", JobAPI),
        (r"api/(.*)", ForwardAPI),
    ]
