"""``datashare/checkpoint``: the newest signed audit checkpoint, for anyone to keep a copy of.

Journals, requesters and reviewers who save it now and then act as witnesses: a later
``jupyter datashare audit verify --checkpoint saved.txt`` shows whether the log they saw was
rewritten since, even by someone who re-signed it with another key. The body is the C2SP signed
note itself (text/plain, so the saved response is the file to verify with); JSON
(``Accept: application/json``) adds the verifier key and what the note vouches for.
"""

from __future__ import annotations

from jupyter_server.auth.decorator import allow_unauthenticated

from ..core import signing
from ..core.errors import NotFound
from .base import PublicHandler


class PublicCheckpoint(PublicHandler):
    @allow_unauthenticated
    async def get(self):
        audit = self.datashare.audit
        # Only what the periodic checkpointer (or the owner) signed: an anonymous GET writes nothing.
        note = await self.in_thread(audit.latest_checkpoint)
        if note is None:
            raise NotFound("no audit checkpoint has been signed yet")
        self.set_header("Cache-Control", "no-cache")  # a witness wants the newest one
        if self.wants_json():
            cp = signing.open_checkpoint(note, audit.public_key)
            self.send_json({"checkpoint": note, "verifier_key": audit.verifier_key, "origin": cp.origin,
                            "size": cp.size, "head_hash": cp.head_hash, "time": cp.time})  # fmt: skip
            return
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.finish(note)
