"""The interface over the core on this machine: the same functions the HTTP handlers call."""

from __future__ import annotations

import itertools
import re
from urllib.parse import unquote, urlparse

from ..core import catalogue, citation, datasets, grants, links, paging, policy, reads, views
from ..core.errors import InvalidInput, NotFound
from ..core.service import DataShare

_LINK = re.compile(r"/datashare/(r|g)/(ds[rg]_[A-Za-z0-9_-]{43})(?:/files/(.+))?$")


class LocalBackend:
    kind = "local"

    def __init__(self, core: DataShare, base_url: str, *, client: str):
        self.core, self.client = core, client
        self.base_url = base_url.rstrip("/") + "/"
        self.root_dir = core.settings.root_dir

    @property
    def owner(self) -> str:
        return self.core.settings.owner

    def url(self, *parts: str) -> str:
        return self.base_url + "datashare/" + "/".join(parts)

    def datasets(self, include_withdrawn: bool = False, *, q: str | None = None, level: str | None = None,
                 limit: int | None = None) -> list[dict]:  # fmt: skip
        if limit is not None and limit < 1:
            raise InvalidInput("limit", "must be at least 1")
        found = catalogue.filters(level, q)
        pages = paging.everything(lambda p: catalogue.page_owned(self.core, self.owner, p, include_withdrawn=include_withdrawn,
                                                                 **found))  # fmt: skip
        now = self.core.now()
        return [views.summary(r, now) for r in itertools.islice(pages, limit)]

    def dataset(self, dataset_id: str, version: int | None = None) -> dict:
        out = datasets.describe_for_owner(self.core, self.owner, dataset_id, version)
        out["landing_page"] = self.url("d", out["id"])
        return out

    def share(self, body: dict, progress=None) -> dict:
        made: list = []
        dataset_id = datasets.share(self.core, self.owner, body, client=self.client, progress=progress,
                                    committee_links=made)  # fmt: skip
        out = self.dataset(dataset_id)
        out["committee_links"] = [{"member_id": m.id, "name": m.name, "email": m.email, "url": self.url("c", secret)}
                                  for m, secret in made if secret]  # fmt: skip
        return out

    def new_version(self, dataset_id: str) -> dict:
        number = datasets.new_version(self.core, self.owner, dataset_id, client=self.client)
        return self.dataset(dataset_id, number)

    def withdraw(self, dataset_id: str, reason: str = "") -> dict:
        datasets.withdraw(self.core, self.owner, dataset_id, reason, client=self.client)
        return self.dataset(dataset_id)

    def links(self, dataset_id: str) -> list[dict]:
        now = self.core.now()
        return [views.link(r, now) for r in links.list_for(self.core, self.owner, dataset_id)]

    def create_link(self, dataset_id: str, body: dict) -> dict:
        row, secret = links.create(self.core, self.owner, dataset_id, body, client=self.client)
        return views.link(row, self.core.now()) | {"url": self.url("r", secret)}

    def revoke_link(self, link_id: str) -> dict:
        return views.link(links.revoke(self.core, self.owner, link_id, client=self.client), self.core.now())

    def citation(self, dataset_id: str, publisher: str | None = None) -> dict:
        ds = datasets.load_owned(self.core, self.owner, dataset_id)
        v, files = datasets.version_files(self.core, ds.id, ds.latest_version)
        return citation.everything(ds, v, files, self.url("d", ds.id), publisher or self.core.settings.publisher,
                                   self.core.now())  # fmt: skip

    def read_file(self, dataset_id: str, path: str | None = None, version: int | None = None) -> tuple[str, bytes]:
        ds = datasets.load_owned(self.core, self.owner, dataset_id)
        return self._read(ds, policy.Principal("owner", self.owner), path, version)

    def read_link(self, url: str, path: str | None = None) -> tuple[str, bytes]:
        u, ours = urlparse(url), urlparse(self.base_url)
        if (u.hostname, u.port) != (ours.hostname, ours.port):
            raise InvalidInput("url", f"is a link of another server ({u.netloc}); this notebook reads {ours.netloc}")
        m = _LINK.search(unquote(u.path))
        if not m:
            raise InvalidInput("url", "is not a review link (…/datashare/r/dsr_…) or a grant link (…/datashare/g/dsg_…)")
        kind, secret, in_url = m.groups()
        try:
            if kind == "g":
                grant, ds = grants.resolve(self.core, secret, self.client)
                principal = grants.principal(grant)
            else:
                row, ds, _ = links.resolve(self.core, secret, self.client)
                principal = links.principal(row)
        except NotFound:
            raise NotFound("that link does not exist, has expired or was revoked") from None
        return self._read(ds, principal, path or in_url, None)

    def _read(self, ds, principal, path, version) -> tuple[str, bytes]:
        if not path:
            _, files = datasets.version_files(self.core, ds.id, version or ds.latest_version)
            if len(files) != 1:
                raise InvalidInput("path", f"say which file: {', '.join(f.path for f in files[:10])}")
            path = files[0].path
        fr = reads.open_file(self.core, ds, principal, path, version=version, client=self.client)
        return path, b"".join(fr.chunks())

    def close(self) -> None:
        self.core.close()
