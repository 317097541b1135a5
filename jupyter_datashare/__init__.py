"""jupyter-datashare: share datasets from Jupyter under controlled access."""

from ._version import __version__

__all__ = ["__version__"]


def _jupyter_server_extension_points():
    from .server.app import DataShareApp

    return [{"module": "jupyter_datashare", "app": DataShareApp}]


