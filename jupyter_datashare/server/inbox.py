"""The service's page for people who log in (through JupyterHub): the access requests they decide,
as a committee member or for one of their hub groups, with what a decision needs (the requester's
purpose, the intended use against the dataset's conditions, conflicts, the agreement), approve or
deny with a confirmation step; and the datasets they own. In a Jupyter server the panel is this."""

from __future__ import annotations

from urllib.parse import urlencode

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..core import catalogue, paging, request_pages, requests, views
from ..core.errors import InvalidInput, NotFound
from .forms import FormHandler

class InboxPage(FormHandler):
    auth_resource = "datashare:requests"
    max_body_bytes = 16 * 1024

    @property
    def who(self):
        return self.current_user.username, tuple(getattr(self.current_user, "groups", ()) or ())

    def _listing(self, page: paging.Page) -> tuple[list, list, list, str | None]:
        username, groups = self.who
        ctx = self.datashare
        seen = request_pages.visible_requests(ctx, username=username, groups=groups)
        to_decide = [r for r in seen if r["you_may_decide"]]
        others = [r for r in seen if not r["you_may_decide"]]
        now = ctx.now()
        # The owner's datasets a page at a time (``?datasets=<cursor>`` for older ones).
        rows, after = catalogue.page_owned(ctx, username, page)
        mine = [views.summary(d, now) | {"landing_page": self.link_url("d", d.id)} for d in rows]
        return to_decide, others, mine, after

    async def show(self, notice: str | None = None, confirm: dict | None = None, status: int = 200) -> None:
        try:
            page = paging.page(None, self.get_query_argument("datasets", None))
        except InvalidInput:
            page = paging.Page()  # a stale or mangled link: the first page
        to_decide, others, mine, after = await self.in_thread(self._listing, page)
        self.set_header("Cache-Control", "no-store")  # requesters' personal data
        more = "?" + urlencode({"datasets": after}) if after else None
        self.page("inbox.html", status, user=self.who[0], to_decide=to_decide, others=others, mine=mine,
                  mine_more=more, notice=notice, confirm=confirm, noindex=True)  # fmt: skip

    @web.authenticated
    @authorized
    async def get(self):
        decided = self.get_query_argument("decided", None)
        notice = None
        if decided:
            username, groups = self.who
            try:
                view = await self.in_thread(requests.get, self.datashare, decided, username=username, groups=groups)
                if view["you_are_member"]:
                    notice = f"Your decision on {decided} was recorded; the request is {view['status']}."
            except (InvalidInput, NotFound):  # a notice is a courtesy; a bad id just shows none
                notice = None
        await self.show(notice)

    @web.authenticated
    @authorized
    async def post(self):
        body = self.form()
        username, groups = self.who
        request_id, decision, reason = body.get("request_id"), body.get("decision"), body.get("reason") or None
        if body.get("confirm") != "yes":
            # First the question, with what will be recorded; nothing is decided yet.
            view = await self.in_thread(requests.get, self.datashare, request_id, username=username, groups=groups)
            if not view["you_are_member"]:
                await self.in_thread(requests.seat_for, self.datashare, request_id, username, groups)  # its 404
            await self.show(confirm={"request": view, "decision": decision, "reason": reason or ""})
            return
        seat = await self.in_thread(requests.seat_for, self.datashare, request_id, username, groups)
        view = await self.in_thread(requests.decide, self.datashare, request_id, seat.id, decision, reason,
                                    client=self.client, decided_by=username)  # fmt: skip
        # Back to the page (303), so that reloading it never sends the decision again.
        self.set_status(303)
        self.set_header("Location", "?" + urlencode({"decided": view["id"]}))
        self.finish()
