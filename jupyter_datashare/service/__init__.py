"""The standalone datashare service (``jupyter datashare serve``): the same routes as the Jupyter
extension, on a plain tornado application that runs no user code, at its own public URL, so that
links outlive any notebook server. Its callers prove who they are with personal API tokens
(``core/api_tokens.py``); the owner of what a caller creates is the token's user."""
