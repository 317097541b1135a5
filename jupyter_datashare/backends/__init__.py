"""One interface for what a researcher does with their datasets, whoever holds them: the local core
(``local.LocalBackend``: the database and store on this machine) or a datashare service
(``remote.RemoteBackend``: over its HTTP API, with the caller's token). The notebook API and the CLI
call it and never know which; the Jupyter extension is its HTTP form (``server/``), and in client
mode passes its calls on to the service (``server/client_mode.py``).

Every method answers with the JSON-shaped dicts of the HTTP API (DESIGN §5): the owner's view of a
dataset, a link's view, a citation; errors are the core's (InvalidInput naming the field, NotFound),
or the service's own passed on (``client.connection.ServiceError``).
"""

from __future__ import annotations

from typing import Callable, Protocol


class Backend(Protocol):
    kind: str  # "local" or "service"
    root_dir: str  # the folder whose files are shared (paths in a share's body are relative to it)

    # Every dataset, newest first, page after page (``limit``: the newest N only).
    def datasets(self, include_withdrawn: bool = False, *, q: str | None = None, level: str | None = None,
                 limit: int | None = None) -> list[dict]: ...
    def dataset(self, dataset_id: str, version: int | None = None) -> dict: ...
    def share(self, body: dict, progress: Callable[[int], None] | None = None) -> dict: ...
    def new_version(self, dataset_id: str) -> dict: ...
    def withdraw(self, dataset_id: str, reason: str = "") -> dict: ...
    def links(self, dataset_id: str) -> list[dict]: ...
    def create_link(self, dataset_id: str, body: dict) -> dict: ...
    def revoke_link(self, link_id: str) -> dict: ...
    def citation(self, dataset_id: str, publisher: str | None = None) -> dict: ...
    def read_file(self, dataset_id: str, path: str | None = None, version: int | None = None) -> tuple[str, bytes]: ...
    def read_link(self, url: str, path: str | None = None) -> tuple[str, bytes]: ...
    def close(self) -> None: ...


def open_backend(options, root_dir: str, *, client: str, base_url: str = "") -> Backend:
    """The service when ``options.service_url`` is set (client mode), else the local core."""
    from ..config import never_uploaded, service_of

    service = service_of(options)
    if service is not None:
        from .remote import RemoteBackend

        return RemoteBackend(service, root_dir, never_uploaded=never_uploaded(options))
    from ..core.service import DataShare
    from .local import LocalBackend

    return LocalBackend(DataShare(options.core_settings(root_dir), options.clock), base_url, client=client)
