"""Restricted data over HTTP: the request form, the requester's status page, grant downloads,
the external committee member's page, and the committee's JSON API."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from jupyter_server.auth.decorator import allow_unauthenticated, authorized
from jupyter_server.utils import url_path_join
from tornado import web

from ..core import bounds, committee, datasets, duo, grants, paging, request_pages, requests
from ..core.db import reading
from ..core.errors import InvalidInput, NotFound
from ..core.models import CommitteeMember, Dataset
from .base import OwnerAPIHandler, PublicHandler
from .forms import FormHandler
from .download import DownloadMixin


def _with_ds_term(body: dict) -> dict:
    """The form's free-text disease box (``ds_term``) joins the ticked purposes as ``DS:<term>``."""
    if "ds_term" not in body:
        return body
    term = body.pop("ds_term")
    if term in (None, ""):
        return body
    if not isinstance(term, str) or len(term) > 100:
        raise InvalidInput("ds_term", "must be a disease term such as MONDO:0005148")
    term = term.strip()
    code = term if term.upper().startswith("DS:") else f"DS:{term}"
    try:
        (code,) = duo.validate_intended_use([code], "ds_term")
    except InvalidInput as exc:
        raise InvalidInput("ds_term", exc.message) from None
    uses = body.get("intended_use")
    if uses is None:
        body["intended_use"] = [code]
    elif isinstance(uses, list):  # anything else stays for the core to refuse, naming the field
        body["intended_use"] = [*uses, code]
    return body


class RequestForm(FormHandler):
    @allow_unauthenticated
    async def post(self, dataset_id):
        body = self.form(multi=("intended_use",), flags=("commercial", "accept_agreement"), ints=("requested_days",))
        body = _with_ds_term(body)
        identity = self.current_user.username if self.current_user else None
        row, secret = await self.in_thread(
            requests.submit, self.datashare, dataset_id, body, client=self.client, identity=identity
        )
        url = self.absolute_url("s", secret)
        # This reply holds the status secret: no cache or search engine may keep it.
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Robots-Tag", "noindex, nofollow")
        if self.wants_json():
            self.send_json({"request_id": row.id, "status": row.status, "status_url": url, "flags": row.flags}, 201)
        else:
            self.page("submitted.html", 201, status_url=url, flags=row.flags, noindex=True)


class StatusPage(FormHandler):
    capability = True

    @allow_unauthenticated
    async def get(self, secret):
        await self.show(secret)

    async def show(self, secret, notice: str | None = None):
        ctx = self.datashare
        r = await self.in_thread(requests.by_status_secret, ctx, secret, self.client)
        view = await self.in_thread(requests.status_view, ctx, r)
        if view["grant"] and view["status"] == "approved":
            base = self.link_url("g", grants.derive_secret(secret))
            ds = await self.in_thread(datasets.load, ctx, r.dataset_id)
            _, rows = await self.in_thread(datasets.version_files, ctx, ds.id, ds.latest_version)
            view["files"] = [{"path": f.path, "size": f.size, "sha256": f.sha256,
                              "url": url_path_join(base, "files", quote(f.path))} for f in rows]  # fmt: skip
        if self.wants_json():
            self.send_json(view)
        else:
            # Relative to .../s/<secret>: the address itself never has to be written into a log.
            self.page("status.html", v=view, notice=notice, noindex=True, renewal_action=f"{secret}/renewal")


class StatusRenewal(StatusPage):
    @allow_unauthenticated
    async def post(self, secret):
        ctx = self.datashare
        r = await self.in_thread(requests.by_status_secret, ctx, secret, self.client)
        await self.in_thread(grants.request_renewal, ctx, r, client=self.client)
        await self.show(secret, notice="Your renewal request was sent to the committee.")


class GrantFile(DownloadMixin, PublicHandler):
    capability = True
    lean = True  # a plain tornado handler in a Jupyter server (base.LeanPublicHandler)

    @allow_unauthenticated
    async def get(self, secret, path):
        def find():
            grant, ds = grants.resolve(self.datashare, secret, self.client)
            return ds, grants.principal(grant)

        await self.serve(find, path)

    head = get


class CommitteePage(FormHandler):
    """An external member's page: the requests of their dataset, with approve / deny forms."""

    capability = True

    def _member(self, secret) -> CommitteeMember:
        ctx = self.datashare
        ctx.limiter.check_client(self.client)
        with reading(ctx.engine) as s:
            member = committee.find_by_secret(s, secret)
        if member is None:
            ctx.limiter.failure(self.client)  # 429 once everyone failed too often: never a valid link
            raise NotFound("not found")
        return member

    @allow_unauthenticated
    async def get(self, secret):
        member = await self.in_thread(self._member, secret)
        await self.show(member, notice=await self.in_thread(self._notice, member))

    def _notice(self, member) -> str | None:
        """What the member just did, after the redirect that follows their form (see ``done``)."""
        decided, revoked = self.get_query_argument("decided", None), self.get_query_argument("revoked", None)
        if decided:
            mine = [r for r in request_pages.visible_requests(self.datashare, member=member) if r["id"] == decided]
            return f"Your decision on {decided} was recorded; the request is {mine[0]['status']}." if mine else None
        if revoked:
            try:
                return f"Grant {self._grant_of_member(member, revoked)} was revoked."
            except NotFound:
                return None
        return None

    async def done(self, member, notice: str, query: str) -> None:
        """After a form: JSON callers get the page; browsers are sent back to it (303), so that
        reloading it shows the result instead of sending the decision again."""
        if self.wants_json():
            await self.show(member, notice=notice)
            return
        self.set_status(303)
        self.set_header("Location", "?" + query)  # relative: the secret never goes into a header
        self.finish()

    async def show(self, member, notice=None, status=200):
        items = await self.in_thread(request_pages.visible_requests, self.datashare, member=member)
        if self.wants_json():
            self.send_json({"member": {"id": member.id, "name": member.name}, "requests": items}, status)
        else:
            self.page("committee.html", status, member=member, items=items, notice=notice, noindex=True)

    @allow_unauthenticated
    async def post(self, secret):
        member = await self.in_thread(self._member, secret)
        body = self.form()
        if body.get("grant_id"):  # the committee, not only the owner, can take access back
            grant = await self.in_thread(self._grant_of_member, member, body["grant_id"])
            await self.in_thread(grants.revoke, self.datashare, grant, f"member:{member.id}", body.get("reason"),
                                 client=self.client)  # fmt: skip
            await self.done(member, f"Grant {grant} was revoked.", urlencode({"revoked": grant}))
            return
        view = await self.in_thread(requests.decide, self.datashare, body.get("request_id"), member.id,
                                    body.get("decision"), body.get("reason"), client=self.client)  # fmt: skip
        await self.done(member, f"Your decision on {view['id']} was recorded; the request is {view['status']}.",
                        urlencode({"decided": view["id"]}))  # fmt: skip

    def _grant_of_member(self, member, grant_id) -> str:
        from ..core.models import Grant

        with reading(self.datashare.engine) as s:
            grant = s.get(Grant, grant_id) if isinstance(grant_id, str) else None
        if grant is None or grant.dataset_id != member.dataset_id:
            raise NotFound(f"no grant '{grant_id}'")
        return grant.id


# -- committee API for Jupyter identities ----------------------------------------------------


class CommitteeAPIHandler(OwnerAPIHandler):
    auth_resource = "datashare:requests"

    @property
    def username(self) -> str:
        return self.current_user.username

    @property
    def groups(self) -> tuple[str, ...]:
        """The caller's hub groups (the service on JupyterHub); none in a Jupyter server."""
        return tuple(getattr(self.current_user, "groups", ()) or ())

    def member_for(self, request_id) -> CommitteeMember:
        return requests.seat_for(self.datashare, request_id, self.username, self.groups)

    def may_read(self, dataset_id: str) -> bool:
        with reading(self.datashare.engine) as s:
            ds = s.get(Dataset, dataset_id)
            mine = {m.dataset_id for m in requests.members_for_identity(s, self.username, self.groups)}
        return ds is not None and (dataset_id in mine or (self.acts_as_owner and ds.owner == self.owner))


class RequestsAPI(CommitteeAPIHandler):
    @web.authenticated
    @authorized
    async def get(self):
        arg = self.get_query_argument
        page = paging.page(arg("limit", None), arg("cursor", None))
        status = arg("status", None) or None
        if status not in (None, "pending", "approved", "denied"):
            raise InvalidInput("status", "must be pending, approved or denied")
        dataset_id = arg("dataset", None) or None
        owner = self.owner if self.acts_as_owner else None
        items, after = await self.in_thread(request_pages.page_visible, self.datashare, page, username=self.username,
                                            owner=owner, status=status, dataset_id=dataset_id,
                                            groups=self.groups)  # fmt: skip
        self.send_json({"requests": items, "next": after})


class RequestAPI(CommitteeAPIHandler):
    @web.authenticated
    @authorized
    async def get(self, request_id):
        view = await self.in_thread(requests.get, self.datashare, request_id, username=self.username, groups=self.groups)
        if not await self.in_thread(self.may_read, view["dataset_id"]):
            raise NotFound(f"no request '{request_id}'")
        self.send_json(view)


class PersonalDataAPI(CommitteeAPIHandler):
    """Erase a requester's personal data (their right to erasure); the audit log stays whole."""

    @web.authenticated
    @authorized
    async def delete(self, request_id):
        view = await self.in_thread(requests.get, self.datashare, request_id)
        try:
            await self.in_thread(datasets.load_owned, self.datashare, self.owner, view["dataset_id"])
        except NotFound:
            raise NotFound(f"no request '{request_id}'") from None  # another's: as if none, naming nothing of it
        await self.in_thread(requests.erase_personal_data, self.datashare, request_id, self.owner)
        self.send_json(await self.in_thread(requests.get, self.datashare, request_id))


class DecisionAPI(CommitteeAPIHandler):
    @web.authenticated
    @authorized
    async def post(self, request_id):
        body = self.json_body()
        member = await self.in_thread(self.member_for, request_id)
        view = await self.in_thread(requests.decide, self.datashare, request_id, member.id, body.get("decision"),
                                    body.get("reason"), client=self.client, decided_by=self.username)  # fmt: skip
        self.send_json(view)


class BulkDecisionAPI(CommitteeAPIHandler):
    """Several requests at once; each still gets its own recorded decision."""

    @web.authenticated
    @authorized
    async def post(self):
        body = self.json_body()
        ids = body.get("requests")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise InvalidInput("requests", "must be a non-empty list of request ids")
        bounds.items("requests", ids, bounds.BULK_REQUESTS)
        results = []
        for request_id in ids:
            try:
                member = await self.in_thread(self.member_for, request_id)
                view = await self.in_thread(requests.decide, self.datashare, request_id, member.id, body.get("decision"),
                                            body.get("reason"), client=self.client, decided_by=self.username)  # fmt: skip
                results.append({"id": request_id, "status": view["status"]})
            except (InvalidInput, NotFound) as exc:
                if isinstance(exc, InvalidInput) and exc.field in ("decision", "reason") and "already" not in exc.message:
                    raise  # the same bad input for every request: say it once
                results.append({"id": request_id, "error": exc.message})
        self.send_json({"results": results})


class GrantAPI(CommitteeAPIHandler):
    @web.authenticated
    @authorized
    async def delete(self, grant_id):
        body = self.json_body() if self.request.body else {}
        with reading(self.datashare.engine) as s:
            from ..core.models import Grant

            grant = s.get(Grant, grant_id)
        if grant is None or not await self.in_thread(self.may_read, grant.dataset_id):
            raise NotFound(f"no grant '{grant_id}'")
        row = await self.in_thread(grants.revoke, self.datashare, grant_id, self.username, body.get("reason"),
                                   client=self.client)  # fmt: skip
        self.send_json(grants.view(row, self.datashare.now()))


class DatasetGrantsAPI(CommitteeAPIHandler):
    @web.authenticated
    @authorized
    async def get(self, dataset_id):
        page = paging.page(self.get_query_argument("limit", None), self.get_query_argument("cursor", None))
        if not await self.in_thread(self.may_read, dataset_id):
            raise NotFound("no such dataset")
        items, after = await self.in_thread(grants.page_for_dataset, self.datashare, dataset_id, page)
        self.send_json({"grants": items, "next": after})


class CommitteeMembersAPI(CommitteeAPIHandler):
    @web.authenticated
    @authorized
    async def get(self, dataset_id):
        ctx = self.datashare
        ds = await self.in_thread(datasets.load_owned, ctx, self.owner, dataset_id)
        with reading(ctx.engine) as s:
            owners = committee.acting_owners(ctx.settings, ds.owner)
            members = [committee.member_view(m, owners) for m in committee.active(s, ds.id)]
        self.send_json({"members": members, "required_approvals": ds.required_approvals, "rule": ds.decision_rule})
