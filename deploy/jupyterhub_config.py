"""JupyterHub with jupyter-datashare as an always-on hub service (README: Deployment, JupyterHub).

    jupyterhub -f deploy/jupyterhub_config.py      # after editing the paths below, or via the environment

- The service (``jupyter datashare serve --hub``) alone holds the database URL (in a file only its
  account reads), the store, the master key and the audit signing key. It serves every public page
  and download at ``{hub}/services/datashare/…``, always on: review links, request forms, grants and
  committee pages work whatever happens to user servers (idle culling no longer matters).
- Each user server runs the extension in client mode: it holds no database, store or key, and calls
  the service with its own ``$JUPYTERHUB_API_TOKEN``, whose scopes say it may (server_token_scopes).
  The service knows the owner of a share as that token's hub user, never as a configured name.
- Committee members are hub usernames, or hub groups written ``group:NAME``.

Every value can be set through the environment (shown after each ``or``), so that a test or a
container sets them without editing this file; ``load_subconfig`` it from your own config to add to it.
"""

import os
import sys

c = get_config()  # noqa: F821 (JupyterHub gives it)
env = os.environ.get

SERVICE = "datashare"
service_port = int(env("DATASHARE_SERVICE_PORT") or 10101)
service_url = f"http://127.0.0.1:{service_port}"
data_dir = env("DATASHARE_SERVICE_DATA_DIR") or "/srv/datashare/data"  # store, signing key (mode 0700)
uploads_dir = env("DATASHARE_SERVICE_ROOT_DIR") or "/srv/datashare/uploads"  # users' uploads before a share

service_environment = {
    # Secrets by file, never on a command line or in a user server's environment:
    "DATASHARE_DB_URL_FILE": env("DATASHARE_DB_URL_FILE") or "/etc/datashare/db_url",  # postgresql+psycopg://…
    "JUPYTER_DATASHARE_MASTER_KEY_FILE": env("JUPYTER_DATASHARE_MASTER_KEY_FILE") or "/etc/datashare/master.key",
    "JUPYTER_DATASHARE_SIGNING_KEY_FILE": env("JUPYTER_DATASHARE_SIGNING_KEY_FILE") or "/etc/datashare/signing.key",
    # The service's own configuration only (not ~/.jupyter of whoever starts the hub):
    "JUPYTER_CONFIG_DIR": env("DATASHARE_SERVICE_CONFIG_DIR") or "/etc/datashare/jupyter",
    "PATH": os.environ.get("PATH", ""),
}
for name in ("PYTHONPATH",):
    if env(name):
        service_environment[name] = env(name)

c.JupyterHub.services = [
    {
        "name": SERVICE,
        "url": service_url,
        "command": [sys.executable, "-m", "jupyter_datashare.cli", "--root-dir", uploads_dir, "--data-dir", data_dir,
                    "serve", "--hub"],  # fmt: skip
        "environment": service_environment,
        # "user": "datashare",  # a system account of its own (the hub must then run as root)
        "oauth_no_confirm": True,  # part of the hub: no consent page on login
        "display": True,  # "datashare" in the hub's Services menu: the committee inbox
    }
]

c.JupyterHub.load_roles = [
    # Every user may call the service (as themselves: the service checks what is theirs).
    {"name": "user", "scopes": ["self", f"access:services!service={SERVICE}"]},
]

# A user server's own token may call the service as its user, and say which groups they are in.
c.Spawner.server_token_scopes = ["users:activity!user", "read:users:groups!user", f"access:services!service={SERVICE}"]
c.Spawner.environment = {
    # Client mode: the extension, the CLI and the notebook API work against the service.
    "DATASHARE_SERVICE_URL": f"{service_url}/services/{SERVICE}/",
}
# On one origin, a user's own config must not change what their server does for others.
c.Spawner.disable_user_config = True
