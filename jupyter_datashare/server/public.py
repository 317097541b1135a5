"""Public pages and downloads (``datashare/d/...``, ``datashare/r/{secret}/...``).

No Jupyter login here: every verb is @allow_unauthenticated and the route checks access itself,
through the core's policy and read function. Review-link routes carry a secret in their path,
so their requests are redacted before anything can log them (see ``base.PublicHandler``).
"""

from __future__ import annotations

import re
from urllib.parse import quote

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.utils import url_path_join

from ..core import citation, datasets, duo, links, policy, requests, views
from ..core.errors import InvalidInput, NotFound
from .base import PublicHandler
from .download import DownloadMixin

PUBLIC = policy.Principal("public", "public")


def _version(handler) -> int | None:
    raw = handler.get_query_argument("version", None)
    if raw is None:
        return None
    if not re.fullmatch(r"[0-9]{1,9}", raw) or int(raw) < 1:  # not int() on 5,000 digits or on "²"
        raise InvalidInput("version", "must be a version number such as 1")
    return int(raw)


class LandingMixin:
    async def landing(self, ds, principal, number: int, files_base: str, *, anonymous=False, review=False, status=200):
        view, decision = await self.in_thread(self._landing_view, ds, principal, number, files_base, anonymous, review)
        if self.wants_json():
            self.send_json(view, status)
            return
        self.set_status(status)
        noindex = self.capability or view["access"]["level_in_force"] != policy.OPEN
        page = self.settings["datashare_pages"].render(
            "dataset.html", d=view, can_download=decision.allowed, denial=decision.reason,
            review=review, anonymous=anonymous, noindex=noindex, xsrf_form_html=self.xsrf_form_html,
            purposes=duo.PRIMARY, min_purpose=requests.MIN_PURPOSE,
        )  # fmt: skip
        self.finish(page)

    def _landing_view(self, ds, principal, number, files_base, anonymous, review):
        ctx = self.datashare
        now = ctx.now()
        v, rows = datasets.version_files(ctx, ds.id, number)
        view = views.public(ds, v, rows, now, anonymous=anonymous, preview_rows=True if review else None)
        decision = policy.can_read_files(ds, principal, now)
        suffix = f"?version={v.number}" if (not review and v.number != ds.latest_version) else ""
        for f in view["files"]:
            f["url"] = url_path_join(files_base, "files", quote(f["path"])) + suffix
        view["can_download"] = decision.allowed
        if not review and not ds.withdrawn_at:
            landing = self.absolute_url("d", ds.id)
            cite_base = self.link_url("d", ds.id, "citation")
            view["citation"] = {
                "text": citation.text(ds, v, landing, ctx.settings.publisher),
                "availability_statement": citation.availability_statement(ds, landing, now),
                "bibtex_url": cite_base + "?format=bibtex",
                "datacite_url": cite_base + "?format=datacite",
            }
        if view["access"]["level_in_force"] == policy.RESTRICTED and not review and not ds.withdrawn_at:
            # What a requester needs to ask for access, and how this committee has been deciding.
            view["use_conditions"] = duo.describe(ds.use_conditions or [])
            view["agreement"] = ds.agreement
            view["agreement_sha256"] = requests.agreement_hash(ds.agreement)
            view["transparency"] = requests.transparency(ctx, ds.id)
            view["request_url"] = self.link_url("d", ds.id, "request")
            view["max_grant_days"] = ctx.settings.max_grant_days
        return view, decision


class DatasetPage(LandingMixin, PublicHandler):
    @allow_unauthenticated
    async def get(self, dataset_id):
        number = _version(self)
        ds = await self.in_thread(datasets.load, self.datashare, dataset_id)
        status = 200
        if ds is None:
            raise NotFound("no such dataset")
        if ds.withdrawn_at is not None:
            if ds.access_level == policy.REVIEWER_ONLY:
                raise NotFound("no such dataset")
            status = 410  # a tombstone: the citation still resolves and says what happened
        elif not policy.can_see_metadata(ds, PUBLIC, self.datashare.now()):
            raise NotFound("no such dataset")
        base = self.link_url("d", ds.id)
        await self.landing(ds, PUBLIC, number or ds.latest_version, base, status=status)

    head = get


class DatasetCitation(PublicHandler):
    """How to cite a dataset whose description is public: JSON, or ?format=bibtex|datacite|text."""

    @allow_unauthenticated
    async def get(self, dataset_id):
        ctx = self.datashare
        ds = await self.in_thread(datasets.load, ctx, dataset_id)
        if ds is None or ds.withdrawn_at is not None or not policy.can_see_metadata(ds, PUBLIC, ctx.now()):
            raise NotFound("no such dataset")
        v, files = await self.in_thread(datasets.version_files, ctx, ds.id, ds.latest_version)
        out = citation.everything(ds, v, files, self.absolute_url("d", ds.id), ctx.settings.publisher,
                                  ctx.now())  # fmt: skip
        fmt = self.get_query_argument("format", "json")
        if fmt == "bibtex":
            self.set_header("Content-Type", "application/x-bibtex; charset=UTF-8")
            self.finish(out["bibtex"])
        elif fmt == "text":
            self.set_header("Content-Type", "text/plain; charset=UTF-8")
            self.finish(out["text"])
        elif fmt == "datacite":
            self.send_json(out["datacite"])
        elif fmt == "json":
            self.send_json(out)
        else:
            raise InvalidInput("format", "must be json, datacite, bibtex or text")


class DatasetFile(DownloadMixin, PublicHandler):
    lean = True  # a plain tornado handler in a Jupyter server (base.LeanPublicHandler)

    @allow_unauthenticated
    async def get(self, dataset_id, path):
        number = _version(self)

        def find():
            ds = datasets.load(self.datashare, dataset_id, versions=False)
            if ds is None or not policy.can_see_metadata(ds, PUBLIC, self.datashare.now()):
                # Before any look-up of versions or files, whose answers would differ: what the public
                # may not see (reviewer-only, withdrawn) is not there. Nor is it audited, as an
                # unknown id is not: the event's commit would take measurably longer than a miss.
                raise NotFound("no such dataset")
            return ds, PUBLIC

        await self.serve(find, path, number)

    head = get


class ReviewPage(LandingMixin, PublicHandler):
    capability = True

    @allow_unauthenticated
    async def get(self, secret):
        ctx = self.datashare
        link, ds, version = await self.in_thread(links.resolve, ctx, secret, self.client)
        await self.in_thread(links.view_page, ctx, link, ds, self.client)
        base = self.link_url("r", secret)
        await self.landing(ds, links.principal(link), version.number, base, anonymous=link.anonymous, review=True)

    head = get


class ReviewFile(DownloadMixin, PublicHandler):
    capability = True
    lean = True  # a plain tornado handler in a Jupyter server (base.LeanPublicHandler)

    @allow_unauthenticated
    async def get(self, secret, path):
        def find():
            link, ds, _version = links.resolve(self.datashare, secret, self.client, versions=False)
            return ds, links.principal(link)

        await self.serve(find, path)

    head = get


class NotFoundPage(PublicHandler):
    """Anything else under a capability prefix: the same 404 as an unknown secret, counted
    as a failed look-up, and redacted like the real routes."""

    capability = True

    @allow_unauthenticated
    async def get(self, *args):
        limiter = self.datashare.limiter
        limiter.check_client(self.client)
        limiter.failure(self.client)  # like an unknown secret: 429 in a flood, else the same 404
        raise NotFound(links.NOT_FOUND)

    head = get
