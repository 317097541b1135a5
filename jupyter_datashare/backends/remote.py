"""The interface over a datashare service's HTTP API (client mode): the same answers as the local
core's, from the service, with the caller's token; shares upload their files first (client/sharing.py)."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlparse

from ..client import sharing
from ..client.connection import Service
from ..core import paging
from ..core.errors import InvalidInput

_LINK = re.compile(r"/(r|g)/(ds[rg]_[A-Za-z0-9_-]{43})(?:/files/(.+))?$")


def _q(*parts: str) -> str:
    return Service.quoted(*parts)


class RemoteBackend:
    kind = "service"
    page_size = paging.MAX_LIMIT  # rows asked for per page of a list

    def __init__(self, service: Service, root_dir: str, *, never_uploaded=()):
        self.service, self.root_dir = service, root_dir
        self.never_uploaded = tuple(p for p in never_uploaded if p)

    def _get(self, rel: str, **query) -> dict:
        return self.service.call("GET", rel, query=query).json()

    def _every(self, rel: str, key: str, limit: int | None = None, **query) -> list[dict]:
        """Every item of a paged list (up to ``limit``), following its ``next`` cursor page by page."""
        if limit is not None and limit < 1:
            raise InvalidInput("limit", "must be at least 1")
        out: list[dict] = []
        cursor = None
        while limit is None or len(out) < limit:
            size = self.page_size if limit is None else min(self.page_size, limit - len(out))
            page = self._get(rel, **query, limit=size, cursor=cursor)
            out += page[key]
            cursor = page.get("next")
            if not cursor:
                break
        return out

    def datasets(self, include_withdrawn: bool = False, *, q: str | None = None, level: str | None = None,
                 limit: int | None = None) -> list[dict]:  # fmt: skip
        return self._every("api/datasets", "datasets", limit, withdrawn=1 if include_withdrawn else None, q=q or None,
                           level=level or None)  # fmt: skip

    def dataset(self, dataset_id: str, version: int | None = None) -> dict:
        return self._get("api/datasets/" + _q(dataset_id), version=version)

    def share(self, body: dict, progress=None) -> dict:
        done = sharing.share(self.service, self.root_dir, body, forbidden=self.never_uploaded, progress=progress)
        return dict(done["dataset"]) | {"committee_links": done.get("committee_links") or []}

    def new_version(self, dataset_id: str) -> dict:
        done = sharing.new_version(self.service, self.root_dir, self.dataset(dataset_id), forbidden=self.never_uploaded)
        return done["dataset"]

    def withdraw(self, dataset_id: str, reason: str = "") -> dict:
        return self.service.call("DELETE", "api/datasets/" + _q(dataset_id), {"reason": reason}).json()

    def links(self, dataset_id: str) -> list[dict]:
        return self._every(f"api/datasets/{_q(dataset_id)}/links", "links")

    def create_link(self, dataset_id: str, body: dict) -> dict:
        return self.service.call("POST", f"api/datasets/{_q(dataset_id)}/links", body).json()

    def revoke_link(self, link_id: str) -> dict:
        return self.service.call("DELETE", "api/links/" + _q(link_id)).json()

    def citation(self, dataset_id: str, publisher: str | None = None) -> dict:
        return self._get(f"api/datasets/{_q(dataset_id)}/citation", publisher=publisher or None)

    def read_file(self, dataset_id: str, path: str | None = None, version: int | None = None) -> tuple[str, bytes]:
        if not path:
            files = self.dataset(dataset_id, version)["files"]
            if len(files) != 1:
                raise InvalidInput("path", f"say which file: {', '.join(f['path'] for f in files[:10])}")
            path = files[0]["path"]
        rel = f"api/datasets/{_q(dataset_id)}/files/{_q(path)}"
        return path, self.service.call("GET", rel, query={"version": version}).body

    def read_link(self, url: str, path: str | None = None) -> tuple[str, bytes]:
        """A review or grant link of this service, opened as its reviewer would (without the token)."""
        u, ours = urlparse(url), urlparse(self.service.url)
        if (u.hostname, u.port) != (ours.hostname, ours.port) or not u.path.startswith(ours.path):
            raise InvalidInput("url", f"is a link of another server ({u.netloc}); this notebook reads {ours.netloc}")
        m = _LINK.search(unquote(u.path[len(ours.path) - 1:]))
        if not m:
            raise InvalidInput("url", "is not a review link (…/r/dsr_…) or a grant link (…/g/dsg_…)")
        kind, secret, in_url = m.groups()
        path = path or in_url
        if not path:
            if kind == "g":
                raise InvalidInput("path", "say which file of the dataset to read")
            page = self.service.call("GET", f"r/{secret}", headers={"Accept": "application/json"}, anonymous=True).json()
            files = page.get("files") or []
            if len(files) != 1:
                raise InvalidInput("path", f"say which file: {', '.join(f['path'] for f in files[:10])}")
            path = files[0]["path"]
        return path, self.service.call("GET", f"{kind}/{secret}/files/{_q(path)}", anonymous=True).body

    def close(self) -> None:
        self.service.close()
