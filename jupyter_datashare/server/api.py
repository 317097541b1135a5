"""The researcher's JSON API (``datashare/api/...``): thin adapters over the core."""

from __future__ import annotations

from urllib.parse import quote

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import url_path_join
from tornado import web

from ..core import catalogue, citation, datasets, links, manifests, old_chains, paging, privacy, views
from ..core.audit import end_of
from ..core.clock import parse_when
from ..core.errors import DataShareError, InvalidInput, NotFound
from ..core.jobs import error_of
from .base import OwnerAPIHandler
from .download import DownloadMixin


def _int_arg(handler, name: str, default=None, *, low: int = 0, high: int | None = None):
    raw = handler.get_query_argument(name, None)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(name, "must be a whole number") from None
    if value < low or (high is not None and value > high):
        raise InvalidInput(name, f"must be between {low} and {high}")
    return value


def query_flag(handler, name: str) -> bool:
    raw = handler.get_query_argument(name, None)
    if raw is None:
        return False
    if raw.lower() not in ("1", "true", "0", "false", ""):
        raise InvalidInput(name, "must be 1 or 0")
    return raw.lower() in ("1", "true")


class FreezeFailed(DataShareError):
    """A direct share or version that failed on the server (a full disk): the answer a background
    job gives for the same failure, instead of a bare 500."""

    status = 500

    def __init__(self, exc: BaseException, kind: str):
        super().__init__(error_of(exc, kind)["message"])

    def to_dict(self) -> dict:
        return {"error": "ServerError", "message": self.message, "field": None}


async def freezing(handler, kind: str, fn, *args, **kwargs):
    """Run a direct share or version; what the core does not name becomes a ``FreezeFailed``."""
    try:
        return await handler.in_thread(fn, *args, **kwargs)
    except DataShareError:
        raise
    except Exception as exc:
        handler.log.exception("jupyter_datashare: direct %s failed", kind)  # the details stay in the log
        raise FreezeFailed(exc, kind) from None


class DatasetView:
    def committee_links(self, made) -> list[dict]:
        """Personal links of new external committee members: shown in this response only."""
        return [{"member_id": m.id, "name": m.name, "email": m.email, "url": self.absolute_url("c", secret)}
                for m, secret in made if secret]  # fmt: skip

    def owner_view(self, dataset_id: str, number: int | None = None) -> dict:
        out = datasets.describe_for_owner(self.datashare, self.owner, dataset_id, number)
        base = url_path_join(self.base_url, self.prefix)
        out["landing_page"] = self.link_url("d", out["id"])
        for f in out["files"]:
            f["url"] = url_path_join(base, "api", "datasets", out["id"], "files", quote(f["path"])) + f"?version={out['version']}"
        return out


class DatasetsAPI(DatasetView, OwnerAPIHandler):
    @web.authenticated
    @authorized
    async def get(self):
        # A page, newest first; ``next`` is the cursor of the page after (None on the last).
        ctx, arg = self.datashare, self.get_query_argument
        page = paging.page(arg("limit", None), arg("cursor", None))
        found = catalogue.filters(arg("level", None), arg("q", None))
        rows, after = await self.in_thread(catalogue.page_owned, ctx, self.owner, page,
                                           include_withdrawn=query_flag(self, "withdrawn"), **found)  # fmt: skip
        now = ctx.now()
        self.send_json({"datasets": [views.summary(r, now) for r in rows], "next": after})

    @web.authenticated
    @authorized
    async def post(self):
        body = self.json_body()
        from . import jobs  # imported here: it builds on DatasetView, above

        if query_flag(self, "check"):
            # Every field but the files': a client that uploads the files first asks this before.
            await self.in_thread(datasets.check_fields, self.datashare, self.owner, body)
            self.send_json({"ok": True})
            return
        if jobs.wants_async(self):
            await jobs.start_share(self, body)
            return
        made: list = []
        dataset_id = await freezing(
            self, "share", datasets.share, self.datashare, self.owner, body, client=self.client, committee_links=made
        )
        out = await self.in_thread(self.owner_view, dataset_id)
        out["committee_links"] = self.committee_links(made)
        self.set_header("Location", url_path_join(self.base_url, self.prefix, "api", "datasets", dataset_id))
        self.send_json(out, 201)


class DatasetAPI(DatasetView, OwnerAPIHandler):
    @web.authenticated
    @authorized
    async def get(self, dataset_id):
        self.send_json(await self.in_thread(self.owner_view, dataset_id, _int_arg(self, "version", low=1)))

    @web.authenticated
    @authorized
    async def patch(self, dataset_id):
        body = self.json_body()
        made: list = []
        await self.in_thread(
            datasets.update, self.datashare, self.owner, dataset_id, body, client=self.client, committee_links=made
        )
        out = await self.in_thread(self.owner_view, dataset_id)
        out["committee_links"] = self.committee_links(made)
        self.send_json(out)

    @web.authenticated
    @authorized
    async def delete(self, dataset_id):
        body = self.json_body() if self.request.body else {}
        reason = body.get("reason", "")
        await self.in_thread(datasets.withdraw, self.datashare, self.owner, dataset_id, reason, client=self.client)
        self.send_json(await self.in_thread(self.owner_view, dataset_id))


class VersionsAPI(DatasetView, OwnerAPIHandler):
    @web.authenticated
    @authorized
    async def get(self, dataset_id):
        out = await self.in_thread(self.owner_view, dataset_id)
        self.send_json({"versions": out["versions"]})

    @web.authenticated
    @authorized
    async def post(self, dataset_id):
        from . import jobs  # imported here: it builds on DatasetView, above

        body = self.json_body() if self.request.body else {}
        datasets.reject_unknown(body, {manifests.FIELD}, "a new version")
        expected = body.get(manifests.FIELD)
        if jobs.wants_async(self):
            await jobs.start_version(self, dataset_id, expected)
            return
        plan = await self.in_thread(datasets.check_new_version, self.datashare, self.owner, dataset_id, expected)
        number = await freezing(self, "version", datasets.freeze_new_version, self.datashare, plan, client=self.client)
        self.send_json(await self.in_thread(self.owner_view, dataset_id, number), 201)


class OwnerFileAPI(DownloadMixin, OwnerAPIHandler):
    @web.authenticated
    @authorized
    async def get(self, dataset_id, path):
        from ..core.policy import Principal

        owner = self.owner
        await self.serve(lambda: (datasets.load_owned(self.datashare, owner, dataset_id), Principal("owner", owner)),
                         path, _int_arg(self, "version", low=1))  # fmt: skip

    head = get


class LinksAPI(DatasetView, OwnerAPIHandler):
    auth_resource = "datashare:links"

    @web.authenticated
    @authorized
    async def get(self, dataset_id):
        page = paging.page(self.get_query_argument("limit", None), self.get_query_argument("cursor", None))
        rows, after = await self.in_thread(links.page_for, self.datashare, self.owner, dataset_id, page)
        now = self.datashare.now()
        self.send_json({"links": [views.link(r, now) for r in rows], "next": after})

    @web.authenticated
    @authorized
    async def post(self, dataset_id):
        body = self.json_body()
        row, secret = await self.in_thread(links.create, self.datashare, self.owner, dataset_id, body, client=self.client)
        out = views.link(row, self.datashare.now())
        # The only time the secret is shown: the URL is the capability.
        out["url"] = self.absolute_url("r", secret)
        if row.anonymous:
            # What would give the authors away to an anonymous reviewer (kinds and counts only).
            out["anonymity_findings"] = await self.in_thread(self._identity_traces, dataset_id)
        self.send_json(out, 201)



    def _identity_traces(self, dataset_id: str) -> list[dict]:
        ds = datasets.load_owned(self.datashare, self.owner, dataset_id)
        identities = privacy.identities_of(self.owner, ds.creators)
        return privacy.scan_dataset(self.datashare, self.owner, ds, identities=identities, tables=False)


class LinkAPI(OwnerAPIHandler):
    auth_resource = "datashare:links"

    @web.authenticated
    @authorized
    async def get(self, link_id):
        rows = await self.in_thread(self._find, link_id)
        self.send_json(views.link(rows, self.datashare.now()))

    def _find(self, link_id):
        from ..core.db import reading
        from ..core.models import Dataset, ReviewLink

        with reading(self.datashare.engine) as s:
            row = s.get(ReviewLink, link_id) if isinstance(link_id, str) else None
            if row is None or s.get(Dataset, row.dataset_id).owner != self.owner:  # another's: as if none
                raise NotFound(f"no review link '{link_id}'")
            return row

    @web.authenticated
    @authorized
    async def delete(self, link_id):
        row = await self.in_thread(links.revoke, self.datashare, self.owner, link_id, client=self.client)
        self.send_json(views.link(row, self.datashare.now()))


class CitationAPI(OwnerAPIHandler):
    """Citation (DataCite 4.5, BibTeX, text) and the statements a manuscript needs, for any level."""

    @web.authenticated
    @authorized
    async def get(self, dataset_id):
        ctx = self.datashare
        ds = await self.in_thread(datasets.load_owned, ctx, self.owner, dataset_id)
        v, files = await self.in_thread(datasets.version_files, ctx, ds.id, ds.latest_version)
        landing = self.absolute_url("d", ds.id)
        publisher = self.get_query_argument("publisher", "") or ctx.settings.publisher
        if len(publisher) > 300:
            raise InvalidInput("publisher", "must be at most 300 characters")
        self.send_json(citation.everything(ds, v, files, landing, publisher, ctx.now()))


class AuditAPI(OwnerAPIHandler):
    """Events as JSON pages, or exported whole as CSV or JSON Lines: the same filters, the same scope."""

    auth_resource = "datashare:audit"
    EXPORT_PIECE = 64 * 1024  # characters sent per step of an export

    def audit_filters(self) -> dict:
        since, until = self.get_query_argument("since", None), self.get_query_argument("until", None)
        return {
            "dataset_id": self.get_query_argument("dataset", None),
            "action": self.get_query_argument("action", None),
            "since": parse_when("since", since) if since else None,
            "until": end_of("until", until) if until else None,
        }

    @web.authenticated
    @authorized
    async def get(self):
        self.require_owner()
        audit = self.datashare.audit
        fmt = self.get_query_argument("format", "json")
        if fmt not in ("json", "jsonl", "csv"):
            raise InvalidInput("format", "must be json, jsonl or csv")
        filters = self.audit_filters()  # a bad date is a 400 before anything is sent
        filters["within"] = await self.in_thread(self.own_datasets)
        if filters["within"] is not None and filters["dataset_id"] and filters["dataset_id"] not in filters["within"]:
            raise NotFound(f"no dataset '{filters['dataset_id']}'")
        if fmt != "json":
            await self.send_export(fmt, filters)
            return
        limit = _int_arg(self, "limit", 100, low=1, high=1000)
        page = self.page_of_events()
        events = await self.in_thread(audit.events, **filters, **page, limit=limit + 1)
        # ``next`` (None at the end), as in every list of the API: pass it as ``cursor`` (or as
        # ``before``, newest first; ``after``, oldest first: it is the last event's seq).
        more, events = len(events) > limit, events[:limit]
        self.send_json({"events": events, "next": str(events[-1]["seq"]) if more else None})

    def page_of_events(self) -> dict:
        """Where the page starts: ``before=<seq>`` (newest first) or ``after=<seq>`` (oldest first),
        ``cursor`` (either, in the page's order), or ``offset`` (kept for old callers: deep pages
        cost more, and shift as events arrive)."""
        order = self.get_query_argument("order", None)
        if order not in (None, "newest", "oldest"):
            raise InvalidInput("order", "must be newest or oldest")
        before, after, cursor = self.cursor("before"), self.cursor("after"), self.cursor("cursor")
        if before is not None and after is not None:
            raise InvalidInput("after", "give before (newest first) or after (oldest first), not both")
        if cursor is not None:
            if before is not None or after is not None:
                raise InvalidInput("cursor", "give cursor, or before/after, not both")
            before, after = (None, cursor) if order == "oldest" else (cursor, None)
        if (before is not None and order == "oldest") or (after is not None and order == "newest"):
            raise InvalidInput("order", "before pages newest first, after oldest first")
        offset = _int_arg(self, "offset", 0, low=0)
        if offset and (before is not None or after is not None):
            raise InvalidInput("offset", "a page starts at before/after or at an offset, not both")
        newest_first = after is None and order != "oldest"
        return {"before": before, "after": after, "offset": offset, "newest_first": newest_first}

    def cursor(self, name: str) -> int | None:
        raw = self.get_query_argument(name, None)
        if raw is None:
            return None
        if not raw.isdigit() or len(raw) > 18:
            raise InvalidInput(name, "must be an event number: the 'next' of the page before (its last event's seq)")
        return int(raw)

    async def send_export(self, fmt: str, filters: dict) -> None:
        """Stream the export: the database is read in a thread, a piece at a time, never all at once."""
        lines = self.datashare.audit.export(fmt, **filters)
        self.set_header("Content-Type", "text/csv; charset=UTF-8" if fmt == "csv" else "application/x-ndjson")
        self.set_header("Content-Disposition", f'attachment; filename="datashare-audit.{fmt}"')
        while piece := await self.in_thread(_take, lines, self.EXPORT_PIECE):
            self.write(piece)
            await self.flush()
        self.finish()


def _take(lines, size: int) -> str:
    """Lines joined up to about ``size`` characters ('' once there are none left)."""
    taken, length = [], 0
    for line in lines:
        taken.append(line)
        length += len(line)
        if length >= size:
            break
    return "".join(taken)


class AuditVerifyAPI(OwnerAPIHandler):
    auth_resource = "datashare:audit"

    @web.authenticated
    @authorized
    async def get(self):
        self.require_whole_log()
        audit = self.datashare.audit
        # From the newest verified point on; ?full=1 from event #1 (the report says which).
        full = query_flag(self, "full")
        report = (await self.in_thread(audit.verify, full=full)).to_dict()
        # Local stores moved into the service keep their old chains: each is checked too.
        moved = await self.in_thread(old_chains.verify, self.datashare)
        if moved:
            report["moved_stores"] = moved
            report["ok"] = report["ok"] and all(m["ok"] for m in moved)
        self.send_json(report | {"checkpoint": await self.in_thread(audit.latest_checkpoint)})


class AuditCheckpointAPI(OwnerAPIHandler):
    """The newest signed checkpoint and the key to check it: copy both somewhere safe."""

    auth_resource = "datashare:audit"

    @web.authenticated
    @authorized
    async def post(self):
        self.require_whole_log()
        audit = self.datashare.audit
        note = await self.in_thread(audit.checkpoint)
        self.send_json({"checkpoint": note, "verifier_key": audit.verifier_key})

    @web.authenticated
    @authorized
    async def get(self):
        self.require_owner()
        audit = self.datashare.audit
        self.send_json({"checkpoint": audit.latest_checkpoint(), "verifier_key": audit.verifier_key})
