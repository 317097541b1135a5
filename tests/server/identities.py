"""A test identity provider: three Jupyter users, told apart by their tokens."""

from jupyter_server.auth.identity import IdentityProvider, User

TOKENS = {"bob-token": "bob", "carol-token": "carol"}


class ThreeUsers(IdentityProvider):
    def get_user(self, handler):
        auth = handler.request.headers.get("Authorization", "")
        if not auth.startswith("token "):
            return None
        token = auth[len("token ") :]
        name = TOKENS.get(token) or ("ada-owner" if token == self.token else None)
        if name is None:
            return None
        handler._token_authenticated = True
        return User(name)
