"""The one configuration of jupyter-datashare, read alike by the server, the CLI and the notebook API.

Every option is declared once, as a trait of ``DataShareConfig``. The server extension
(``server.app.DataShareApp``) inherits them, so users keep writing ``c.DataShareApp.name = value``
in ``jupyter_server_config.py``. ``load()`` gives the CLI and the notebook the same values: it reads
the files jupyter-server reads, then ``--DataShareApp.name=value`` arguments, then the caller's
own overrides (``--data-dir``, ``connect(data_dir=…)``). ``core_settings()`` is the one place the
core's plain ``Settings`` are made from it.

No tornado and no jupyter_server here: the CLI runs without the web server stack.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import fields
from difflib import get_close_matches
from typing import Sequence
from urllib.parse import urlparse

from jupyter_core.paths import jupyter_config_dir, jupyter_config_path
from traitlets import Bool, Float, Instance, Int, List, TraitError, Unicode, default, validate
from traitlets.config import Application, Config, Configurable
from traitlets.config.loader import KVArgParseConfigLoader

from .core.clients import parse_networks
from .core.clock import Clock
from .core.errors import InvalidInput
from .core.settings import (
    MASTER_KEY_ENV, MASTER_KEY_FILE_ENV, SIGNING_KEY_FILE_ENV, Settings, default_data_dir, default_owner,
)  # fmt: skip

SECTION = "DataShareApp"  # the section users write: c.DataShareApp.*
# What jupyter-server reads, lowest priority first: the extension's own file (ExtensionApp's
# jupyter_{name}_config), then jupyter_config and jupyter_server_config (ServerApp), each as
# .py and .json in every directory of the Jupyter config path.
CONFIG_FILES = ("jupyter_jupyter_datashare_config", "jupyter_config", "jupyter_server_config")
_D = Settings  # the core's defaults are the defaults of the options
SERVICE_URL_ENV, SERVICE_TOKEN_FILE_ENV = "DATASHARE_SERVICE_URL", "DATASHARE_SERVICE_TOKEN_FILE"
DB_URL_FILE_ENV = "DATASHARE_DB_URL_FILE"
CONFIG_ARG = re.compile(r"--[A-Za-z_]\w*\.[A-Za-z_]\w*(=.*)?", re.S)  # as jupyter-server takes them


class DataShareConfig(Configurable):
    """Every option of jupyter-datashare (``c.DataShareApp.*``)."""

    data_dir = Unicode(
        help="Folder for the database, the file store and (unless signing_key_file says otherwise) the audit "
        "signing key. Default: <jupyter data dir>/datashare."
    ).tag(config=True)

    @default("data_dir")
    def _data_dir(self):
        return default_data_dir()

    db_url = Unicode(_D.db_url, help="SQLAlchemy URL of the database. Default: SQLite in data_dir.").tag(config=True)
    db_url_file = Unicode(
        help="A file holding db_url (with its password), readable only by the service's account: the URL then "
        f"never shows on a command line or in a config file others read. Default: ${DB_URL_FILE_ENV}."
    ).tag(config=True)

    @default("db_url_file")
    def _db_url_file_from_environment(self):
        return os.environ.get(DB_URL_FILE_ENV, "")
    owner = Unicode(help="Name recorded as the owner of shared datasets. Default: the hub user or the account.").tag(
        config=True
    )

    @default("owner")
    def _owner(self):
        return default_owner()

    owner_identities = List(
        Unicode(),
        help="Usernames allowed to act as the owner. Default: the hub user on JupyterHub, "
        "otherwise anyone the server authenticates (a single-user server).",
    ).tag(config=True)

    @default("owner_identities")
    def _owner_identities(self):
        hub_user = os.environ.get("JUPYTERHUB_USER")
        return [hub_user] if hub_user else []

    publisher = Unicode(_D.publisher, help="Publisher named in citations, e.g. your institution.").tag(config=True)
    default_grant_days = Int(
        help=f"Grant lifetime when the requester asks for none (days). Default: {_D.default_grant_days}, "
        "or max_grant_days if that is shorter."
    ).tag(config=True)
    max_grant_days = Int(_D.max_grant_days, help="Longest grant a requester may ask for (days).").tag(config=True)
    requests_per_client = Int(
        _D.requests_per_client, help="Access requests accepted per client address per window."
    ).tag(config=True)
    requests_client_window = Float(_D.requests_client_window, help="Window of the access-request limit (seconds).").tag(
        config=True
    )
    default_link_days = Int(
        help=f"Lifetime of a review link when none is given (days). Default: {_D.default_link_days}, "
        "or max_link_days if that is shorter."
    ).tag(config=True)
    max_link_days = Int(_D.max_link_days, help="Longest lifetime a review link may be given (days).").tag(config=True)

    # Setting only a maximum shorter than the usual default lowers the default with it.
    @default("default_link_days")
    def _default_link_days(self):
        return min(_D.default_link_days, self.max_link_days)

    @default("default_grant_days")
    def _default_grant_days(self):
        return min(_D.default_grant_days, self.max_grant_days)
    public_base_url = Unicode(
        _D.public_base_url,
        help="Public address of the server's base URL (what a reverse proxy maps to c.ServerApp.base_url), "
        "e.g. https://data.example.org or https://data.example.org/share/: links are this + datashare/…, "
        "whatever the server's own base URL. Default: the request's scheme and host with the base URL.",
    ).tag(config=True)
    checkpoint_every = Int(_D.checkpoint_every, help="Sign an audit checkpoint at least every this many events.").tag(
        config=True
    )
    checkpoint_seconds = Float(
        _D.checkpoint_seconds, help="...and at least every this many seconds while events arrive."
    ).tag(config=True)
    failed_lookups_per_client = Int(
        _D.failed_lookups_per_client, help="Failed secret look-ups allowed per client address per window."
    ).tag(config=True)
    failed_lookups_client_window = Float(
        _D.failed_lookups_client_window, help="Window of the per-client limit (seconds)."
    ).tag(config=True)
    failed_lookups_overall = Int(
        _D.failed_lookups_overall, help="Failed secret look-ups allowed from all clients per window."
    ).tag(config=True)
    failed_lookups_overall_window = Float(
        _D.failed_lookups_overall_window, help="Window of the overall limit (seconds)."
    ).tag(config=True)
    data_stewards = List(
        Unicode(),
        help="The service: users who read and verify the whole audit log, not only their own datasets' "
        "(usernames, or hub groups as 'group:NAME'). Default: none (the administrator, with the CLI).",
    ).tag(config=True)
    trusted_proxies = List(
        Unicode(),
        help="Reverse proxies whose X-Forwarded-For names the client (addresses or networks, IPv4 and "
        "IPv6, e.g. ['127.0.0.1', '10.0.0.0/8']; 'unix' for the server's Unix socket): the client is the "
        "right-most hop that is not one of them. Used instead of c.ServerApp.trust_xheaders, which "
        "believes X-Real-IP and X-Forwarded-For from anyone. Default: none (the peer is the client).",
    ).tag(config=True)

    @validate("trusted_proxies")
    def _valid_proxies(self, proposal):
        try:
            parse_networks(proposal["value"])
        except ValueError as exc:
            raise TraitError(str(exc)) from None
        return proposal["value"]

    smtp_host = Unicode("", help="SMTP server for e-mail notifications; empty: no e-mail.").tag(config=True)
    smtp_port = Int(25, help="SMTP port.").tag(config=True)
    smtp_from = Unicode("jupyter-datashare@localhost", help="Sender address of notifications.").tag(config=True)
    smtp_username = Unicode("", help="SMTP login, if the server needs one.").tag(config=True)
    smtp_password = Unicode("", help="SMTP password.").tag(config=True)
    smtp_starttls = Bool(False, help="Upgrade the SMTP connection with STARTTLS.").tag(config=True)
    reminder_days = Int(7, help="Remind the committee of requests pending this many days.").tag(config=True)
    expiry_warning_days = Int(14, help="Warn requester and committee this many days before a grant ends.").tag(
        config=True
    )
    download_chunk_size = Int(1 << 20, help="Bytes read and sent per step of a download.").tag(config=True)
    max_upload_bytes = Int(
        1 << 40, help="The standalone service: the largest file (or chunk of one) a caller may send to their folder."
    ).tag(config=True)
    upload_keep_free_bytes = Int(
        2 << 30, help="The standalone service: refuse an upload (507) that would leave less than this many bytes "
        "free on the disk of the callers' folders; the store and the database need room too."
    ).tag(config=True)
    service_url = Unicode(
        help="Client mode: the datashare service this server (and the CLI, the notebook API) works against, "
        "e.g. https://hub.example.org/services/datashare/. It then holds no database, store or keys of "
        f"its own. Default: ${SERVICE_URL_ENV}, else none (local mode)."
    ).tag(config=True)

    @default("service_url")
    def _service_url_from_environment(self):
        return os.environ.get(SERVICE_URL_ENV, "")

    service_token_file = Unicode(
        help="Client mode: a file holding the API token to call the service with (jupyter datashare serve "
        f"token create). Default: ${SERVICE_TOKEN_FILE_ENV}."
    ).tag(config=True)

    @default("service_token_file")
    def _service_token_file_from_environment(self):
        return os.environ.get(SERVICE_TOKEN_FILE_ENV, "")

    zero_copy = Bool(True, help="Send plain files with sendfile() on non-TLS connections.").tag(config=True)
    download_processes = Int(
        2, help="Processes that send the bodies of large downloads (and decrypt encrypted ones) outside "
        "the server's GIL, so its event loop keeps answering. 0: threads of the server send them.",
    ).tag(config=True)
    download_nice = Int(
        10, help="CPU niceness of the sending processes (0-19): higher lets the server's own work (an owner's "
        "call, a page) go first on a busy machine; 0 gives a lone large download its full speed.",
    ).tag(config=True)
    downloads_at_once = Int(
        64, help="Large downloads (more than one download_chunk_size) sent at the same time; further "
        "ones wait their turn.",
    ).tag(config=True)
    downloads_waiting = Int(
        256, help="Downloads that may wait for their turn; one more is answered 503 with Retry-After.",
    ).tag(config=True)
    download_wait_seconds = Float(
        30.0, help="How long a download waits for its turn before it is answered 503 with Retry-After.",
    ).tag(config=True)
    public_threads = Int(
        32, help="Threads for the work of public pages and downloads (deciding, auditing, small files); "
        "concurrent downloads' audit events share one durable commit, so allow as many as you serve at once.",
    ).tag(config=True)
    public_waiting = Int(
        1024, help="Public requests that may wait for one of public_threads; one more is answered 503.",
    ).tag(config=True)
    owner_threads = Int(
        8, help="Threads for the owner's API and the panel, apart from the public ones: a crowd of "
        "readers never makes the researcher wait for a thread.",
    ).tag(config=True)
    stall_timeout = Float(
        120.0, help="Seconds a client may read nothing before its encrypted download is cut off."
    ).tag(config=True)
    db_busy_timeout_ms = Int(_D.db_busy_timeout_ms, help="How long a write waits for the database lock (ms).").tag(
        config=True
    )
    master_key = Unicode(
        help="Base64 of 32 random bytes (openssl rand -base64 32) that wrap the keys of encrypted "
        f"datasets. Default: ${MASTER_KEY_ENV}, else read from master_key_file. "
        "Changing it makes existing encrypted datasets unreadable.",
    ).tag(config=True)
    master_key_file = Unicode(
        help="File holding the master key (32 bytes, or base64 text such as a mounted secret); keep it "
        "away from data_dir so that a copy of the data alone reads nothing. Default: "
        f"${MASTER_KEY_FILE_ENV}, else master.key in data_dir, made on first use (mode 0600).",
    ).tag(config=True)
    signing_key_file = Unicode(
        help="File holding the Ed25519 key that signs audit checkpoints (32 bytes, or base64 text); keep it "
        "away from data_dir so that whoever can rewrite the database cannot re-sign it. Default: "
        f"${SIGNING_KEY_FILE_ENV}, else audit-signing.key in data_dir, made on first use (mode 0600).",
    ).tag(config=True)
    job_threads = Int(2, help="Shares and versions frozen at once in the background; more wait their turn.").tag(
        config=True
    )
    finished_job_seconds = Float(600.0, help="How long a finished background share can still be read (seconds).").tag(
        config=True
    )
    clock = Instance(Clock, allow_none=True, help="Time source (tests inject a manual clock).").tag(config=True)

    @default("master_key")
    def _master_key_from_environment(self):
        return os.environ.get(MASTER_KEY_ENV, "")

    @default("master_key_file")
    def _master_key_file_from_environment(self):
        return os.environ.get(MASTER_KEY_FILE_ENV, "")

    @default("signing_key_file")
    def _signing_key_file_from_environment(self):
        return os.environ.get(SIGNING_KEY_FILE_ENV, "")

    def core_settings(self, root_dir: str, *, many_owners: bool = False) -> Settings:
        """The core's plain view of these options, for a server (or CLI, notebook) rooted at
        ``root_dir``; ``many_owners`` for the standalone service, whose owners are many."""
        if self.default_link_days > self.max_link_days:
            raise InvalidInput(f"{SECTION}.default_link_days", f"must not exceed max_link_days ({self.max_link_days})")
        check_public_base_url(self.public_base_url)
        # root_dir is the server's; many_owners is the service's way of working, not an option.
        values = {f.name: getattr(self, f.name) for f in fields(Settings) if f.name not in ("root_dir", "many_owners")}
        values["owner_identities"] = tuple(self.owner_identities)
        values["trusted_proxies"] = tuple(self.trusted_proxies)
        values["data_stewards"] = tuple(self.data_stewards)
        for name in ("data_dir", "master_key_file", "signing_key_file"):  # a config file may say ~/…
            if values[name]:
                values[name] = os.path.abspath(os.path.expanduser(values[name]))
        if self.db_url_file:
            values["db_url"] = _read_db_url(self.db_url_file)
        return Settings(root_dir=root_dir, many_owners=many_owners, **values)


def _read_db_url(path: str) -> str:
    try:
        with open(os.path.expanduser(path), encoding="utf-8") as f:
            url = f.read().strip()
    except OSError as exc:
        raise InvalidInput(f"{SECTION}.db_url_file", f"cannot be read ({exc.strerror})") from None
    if not url or "\n" in url:
        raise InvalidInput(f"{SECTION}.db_url_file", "must hold one database URL, e.g. postgresql+psycopg://…")
    return url


def split_config_args(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """Separate ``--Section.name=value`` (or ``--Section.name value``) settings from the other arguments."""
    rest, settings = [], []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest += argv[i:]
            break
        m = CONFIG_ARG.fullmatch(arg)
        if m and not m.group(1) and i + 1 < len(argv):  # `--Section.name value`
            settings += [arg + "=" + argv[i + 1]]
            i += 2
            continue
        (settings if m else rest).append(arg)
        i += 1
    return rest, settings


def config_file_paths() -> list[str]:
    """Where jupyter-server looks for its config files (ServerApp.config_file_paths)."""
    paths = jupyter_config_path()
    if jupyter_config_dir() not in paths:
        paths.insert(0, jupyter_config_dir())
    return paths


def jupyter_config(argv: Sequence[str] = ()) -> Config:
    """The configuration jupyter-server would start with: its config files, then ``--Section.name=value``."""
    files = Application(log=logging.getLogger("jupyter_datashare.config"))  # only its config-file loading
    for name in CONFIG_FILES:
        files.load_config_file(name, path=config_file_paths())
    config = Config()
    config.merge(files.config)
    if argv:
        given = KVArgParseConfigLoader(list(argv)).load_config()
        traits = DataShareConfig.class_trait_names(config=True)
        for name in given[SECTION] if SECTION in given else ():
            if name not in traits:  # a typo on a command line must not pass silently
                close = get_close_matches(name, traits, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                raise InvalidInput(f"--{SECTION}.{name}", f"is not an option of {SECTION}{hint}")
        config.merge(given)
    return config


def load(argv: Sequence[str] = (), **overrides) -> DataShareConfig:
    """The options as the server would see them, with ``overrides`` (those not None) on top.

    The returned object's ``config`` is the whole Jupyter configuration (for ``server_root_dir``).
    """
    config = jupyter_config(argv)
    traits = DataShareConfig.class_trait_names(config=True)
    ours = Config()
    for section in ("DataShareConfig", SECTION):  # the order the server's own lookup merges them in
        if section in config:  # (a bare config[section] would add an empty section)
            ours.merge(Config({k: v for k, v in config[section].items() if k in traits}))
    options = DataShareConfig()
    for name, value in ours.items():  # one at a time, so that a bad value is named
        try:
            options.update_config(Config({"DataShareConfig": {name: value}}))
        except TraitError as exc:
            raise InvalidInput(f"{SECTION}.{name}", str(exc).replace("DataShareConfig", SECTION)) from None
    config["DataShareConfig"] = ours
    options.config = config
    for name, value in overrides.items():
        if name not in traits:
            raise TypeError(f"{name} is not an option of {SECTION}")
        if value is not None:
            setattr(options, name, value)
    return options


def server_root_dir(options: DataShareConfig) -> str:
    """``c.ServerApp.root_dir`` if it is configured, else ''."""
    server = options.config["ServerApp"] if "ServerApp" in options.config else {}
    root = str(server.get("root_dir") or "")
    return os.path.abspath(os.path.expanduser(root)) if root else ""


def check_public_base_url(value: str) -> None:
    """Refuse a public_base_url that links cannot be built on (named as users write it)."""
    if not value:
        return
    problem = ""
    try:
        u = urlparse(value)
        u.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError as exc:
        problem = f"is not a URL ({exc})"
    else:
        if u.scheme not in ("http", "https") or not u.hostname:
            problem = "must be an absolute http:// or https:// URL with a host, e.g. https://data.example.org/share/"
        elif "?" in value or "#" in value:
            problem = "must not have a query (?…) or a fragment (#…): links are built by appending datashare/… to it"
        elif any(c.isspace() for c in value):
            problem = "must not contain spaces"
    if problem:
        raise InvalidInput(f"{SECTION}.public_base_url", f"{value!r} {problem}")


def public_url(options: DataShareConfig) -> str:
    """The server's base URL as its own generated links show it: ``public_base_url`` exactly, as the
    public address of ``c.ServerApp.base_url`` (links are it + ``datashare/…``, whatever the server's
    own base path); '' without a public_base_url."""
    if not options.public_base_url:
        return ""
    check_public_base_url(options.public_base_url)
    return options.public_base_url.rstrip("/") + "/"


def never_uploaded(options: DataShareConfig) -> tuple[str, ...]:
    """What client mode never sends to the service, wherever a path or a link leads: a local store
    left from local mode, the keys, the token file."""
    found = (options.data_dir, options.master_key_file, options.signing_key_file, options.service_token_file)
    return tuple(os.path.abspath(os.path.expanduser(p)) for p in found if p)


def service_of(options: DataShareConfig):
    """The service client mode works against (``client.connection.Service``), or None in local mode."""
    if not options.service_url:
        return None
    from .client.connection import Service, read_token

    if urlparse(options.service_url).username is not None:
        raise InvalidInput(f"{SECTION}.service_url", "must not hold a user name or password: the token file says who you are")

    if options.service_token_file:
        return Service(options.service_url, read_token(options.service_token_file))
    if os.environ.get("JUPYTERHUB_API_TOKEN"):
        # A user server on JupyterHub: its own token names its user to the service (with
        # access:services!service=datashare in c.Spawner.server_token_scopes).
        return Service(options.service_url, os.environ["JUPYTERHUB_API_TOKEN"])
    raise InvalidInput(f"{SECTION}.service_token_file", "is required with service_url: a file holding your API token")
