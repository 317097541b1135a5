"""Plain settings of the core. ``jupyter_datashare.config`` fills them from the Jupyter
configuration (``c.DataShareApp.*``) for the server, the CLI and the notebook alike."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field


MASTER_KEY_ENV = "JUPYTER_DATASHARE_MASTER_KEY"
MASTER_KEY_FILE_ENV = "JUPYTER_DATASHARE_MASTER_KEY_FILE"
SIGNING_KEY_FILE_ENV = "JUPYTER_DATASHARE_SIGNING_KEY_FILE"
SIGNING_KEY_FILE = "audit-signing.key"  # in data_dir unless signing_key_file says otherwise


def default_owner() -> str:
    # On JupyterHub the single-user server runs for one hub user; elsewhere, the account.
    return os.environ.get("JUPYTERHUB_USER") or getpass.getuser()


def default_data_dir() -> str:
    from jupyter_core.paths import jupyter_data_dir

    return os.path.join(jupyter_data_dir(), "datashare")


@dataclass
class Settings:
    root_dir: str
    data_dir: str = ""
    db_url: str = ""
    owner: str = ""
    default_link_days: int = 30
    max_link_days: int = 365
    public_base_url: str = ""
    checkpoint_every: int = 1000
    checkpoint_seconds: float = 60.0
    failed_lookups_per_client: int = 10
    failed_lookups_client_window: float = 300.0
    failed_lookups_overall: int = 1000
    failed_lookups_overall_window: float = 3600.0
    db_busy_timeout_ms: int = 10_000
    # Base64 of 32 bytes that wrap the data keys of encrypted datasets; empty: read from
    # ``master_key_file``, else <data_dir>/master.key. The environment gives the defaults, so a
    # key never has to sit in a config file or on a command line.
    master_key: str = field(default_factory=lambda: os.environ.get(MASTER_KEY_ENV, ""), repr=False)
    master_key_file: str = field(default_factory=lambda: os.environ.get(MASTER_KEY_FILE_ENV, ""))
    # The key that signs audit checkpoints; empty: <data_dir>/audit-signing.key. Kept elsewhere,
    # whoever can rewrite the database still cannot re-sign it.
    signing_key_file: str = field(default_factory=lambda: os.environ.get(SIGNING_KEY_FILE_ENV, ""))
    # Usernames that act as the owner; empty: anyone the server authenticates (single-user server).
    owner_identities: tuple[str, ...] = ()
    default_grant_days: int = 365
    max_grant_days: int = 730
    requests_per_client: int = 5
    requests_client_window: float = 3600.0
    publisher: str = "jupyter-datashare"  # the publisher named in citations (your institution)
    # Reverse proxies (addresses, networks, "unix") whose X-Forwarded-For names the client.
    trusted_proxies: tuple[str, ...] = ()
    # The standalone service: every caller owns their own datasets, and only those; each shares
    # from root_dir/<owner>/ (nobody's token reaches another's files, or the service's own), and
    # any other user may sit on their committee.
    many_owners: bool = False
    # The service: who reads and verifies the whole audit log (hub usernames, or ``group:NAME``).
    data_stewards: tuple[str, ...] = ()

    def __post_init__(self):
        self.data_dir = self.data_dir or default_data_dir()
        self.db_url = self.db_url or "sqlite:///" + os.path.join(self.data_dir, "datashare.sqlite")
        self.owner = self.owner or default_owner()

    @property
    def store_dir(self) -> str:
        return os.path.join(self.data_dir, "store")

    @property
    def signing_key_path(self) -> str:
        if self.signing_key_file:
            return os.path.expanduser(self.signing_key_file)
        return os.path.join(self.data_dir, SIGNING_KEY_FILE)
