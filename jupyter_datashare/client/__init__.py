"""The client back-end: a Jupyter server, the CLI or a notebook that works against a datashare
service (``c.DataShareApp.service_url``) instead of a store of its own.

Plain Python, no tornado (like the core): ``connection`` speaks HTTP to the service with the
caller's token, ``uploads`` sends a folder's files (streamed, in resumable chunks, each with its
SHA-256), ``sharing`` is a share or a new version made that way. The Jupyter extension's client
mode (``server/client_mode.py``) is a thin tornado adapter over these.
"""
