"""The JupyterLab server the browser tests drive (started by Playwright's webServer).

Galata's helper sets up a test server; on top of it this one
- serves a temporary root folder and keeps the datashare store, Jupyter's runtime files and the
  lab workspaces in the same temporary folder, so no user data is touched (playwright.config.js
  makes that folder and global-teardown.js removes it);
- requires a token (DATASHARE_UI_TOKEN, set by playwright.config.js) and runs with
  allow_unauthenticated_access = False, as the Python suite does, so a fresh browser context
  without the token really is a stranger.
"""

import atexit
import functools
import os
import shutil
import tempfile

import jupyterlab.galata as galata_config
from jupyter_server.auth.identity import PasswordIdentityProvider, User


class OneResearcher(PasswordIdentityProvider):
    """Every holder of the token is the same researcher, "ada", the owner; the holder of a second
    token (DATASHARE_UI_MEMBER_TOKEN) is "grace", a colleague on a data access committee.

    (By default each token-authenticated client gets a random anonymous identity; the tests need
    the browser and their own API requests to be one person.)
    """

    def get_user(self, handler):
        member_token = os.environ.get("DATASHARE_UI_MEMBER_TOKEN")
        if member_token and handler.request.headers.get("Authorization") == f"token {member_token}":
            handler._token_authenticated = True
            return User(username="grace", name="Grace Hopper", display_name="Grace Hopper", initials="GH")
        return super().get_user(handler)

    def generate_anonymous_user(self, handler):
        return User(username="ada", name="Ada Lovelace", display_name="Ada Lovelace", initials="AL")


c = get_config()  # noqa: F821 (provided by traitlets when this file is loaded)

# playwright.config.js makes one temporary folder per run (and removes it afterwards); run by
# hand (`jlpm start`), the server makes its own and removes it when it exits.
base = os.environ.get("DATASHARE_UI_TMP") or tempfile.mkdtemp(prefix="datashare-ui-")
root_dir, data_dir, runtime_dir = (os.path.join(base, name) for name in ("root", "data", "runtime"))
for path in (root_dir, data_dir, runtime_dir):
    os.makedirs(path, exist_ok=True)
os.environ["JUPYTERLAB_GALATA_ROOT_DIR"] = root_dir

# Galata's helper makes temporary folders and files of its own: make them inside `base`.
galata_config.mkdtemp = functools.partial(tempfile.mkdtemp, dir=base)
galata_config.NamedTemporaryFile = functools.partial(tempfile.NamedTemporaryFile, dir=base)
galata_config.configure_jupyter_server(c)

c.ServerApp.port = int(os.environ.get("DATASHARE_UI_PORT", "8899"))
c.ServerApp.allow_root = True  # CI containers run as root
# Runtime files (server info, cookie secret) go to the temporary folder too.
c.ServerApp.runtime_dir = runtime_dir
c.ServerApp.cookie_secret_file = os.path.join(data_dir, "cookie_secret")
c.ServerApp.root_dir = root_dir
c.IdentityProvider.token = os.environ.get("DATASHARE_UI_TOKEN", "datashare-ui-test-token")
c.ServerApp.identity_provider_class = OneResearcher
c.ServerApp.allow_unauthenticated_access = False
c.DataShareApp.data_dir = data_dir
# ada owns the datasets; grace (the second token) is another Jupyter user, who may decide requests.
c.DataShareApp.owner = "ada"
c.DataShareApp.owner_identities = ["ada"]
# Every browser test asks for access from 127.0.0.1: the flood limit of 5 requests per address
# is the Python suite's to test (tests/server/test_requests.py), not a cap on how many specs ask.
c.DataShareApp.requests_per_client = 1000


if not os.environ.get("DATASHARE_UI_TMP"):

    @atexit.register
    def _clean_up() -> None:
        shutil.rmtree(base, ignore_errors=True)
