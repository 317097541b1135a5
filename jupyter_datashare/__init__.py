"""jupyter-datashare: share datasets from Jupyter under controlled access."""

from ._version import __version__
from .notebook import cite, connect, dataset, link, list_datasets, read, revoke, share

__all__ = ["__version__", "cite", "connect", "dataset", "link", "list_datasets", "read", "revoke", "share"]


def _jupyter_server_extension_points():
    from .server.app import DataShareApp

    return [{"module": "jupyter_datashare", "app": DataShareApp}]




def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "jupyter-datashare"}]
