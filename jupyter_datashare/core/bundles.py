"""A moved store's bundle (core/move_out.py made it), checked row by row before anything is written
(core/move_in.py adds it): only the columns of each kind of record, each of its column's type and
length, the rules the service keeps for records it makes itself (access levels, a committee that
can reach its quorum without the owner, the owner never deciding, versions numbered in order, a
live dataset's every file sent and checked), and ``owner`` / ``dataset_id`` forced on every row.
"""

from __future__ import annotations

import base64
import binascii
import re

from . import committee, duo, metadata, paths, policy
from .clock import parse_when
from .errors import InvalidInput
from .keyring import DatasetKey, master_key_id
from .models import AccessRequest, CommitteeMember, Dataset, DatasetVersion, Decision, Grant, ReviewLink, UTCDateTime
from .models import VersionFile
from .requests import APPROVED, DENIED, PENDING

_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
# Numbered by the service's database, never sent (move_out._LOCAL_ONLY).
_NUMBERED = {DatasetVersion: {"id"}, VersionFile: {"id", "version_id"}, Decision: {"id"}}


def typed(value, col, where: str):
    """``value`` as column ``col`` holds it, or InvalidInput naming ``where``."""
    if value is None:
        if not col.nullable:
            raise InvalidInput(where, "cannot be empty")
        return None
    if isinstance(col.type, UTCDateTime):
        return parse_when(where, value)
    kind = col.type.impl.python_type if hasattr(col.type, "impl") else col.type.python_type
    if kind is bool and not isinstance(value, bool):
        raise InvalidInput(where, "must be true or false")
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise InvalidInput(where, "must be a whole number")
    if kind in (int, float) and isinstance(value, (int, float)) and abs(value) >= 2**63:
        raise InvalidInput(where, "is too large")
    if kind is str:
        if not isinstance(value, str):
            raise InvalidInput(where, "must be a text")
        if getattr(col.type, "length", None) and len(value) > col.type.length:
            raise InvalidInput(where, f"must be at most {col.type.length} characters")
    return value


def make(model, data, where: str, *, extra=(), fixed: dict | None = None):
    """An ORM row from a bundle's row; ``fixed`` values (the owner, the dataset) replace what was sent."""
    if not isinstance(data, dict):
        raise InvalidInput(where, "must be an object")
    fixed, numbered = fixed or {}, _NUMBERED.get(model, set())
    columns = {c.key: c for c in model.__table__.columns if c.key not in numbered}
    unknown = set(data) - set(columns) - set(extra)
    if unknown:
        raise InvalidInput(f"{where}.{sorted(unknown)[0]}", "is not a field of this kind of record")
    values = {}
    for key, col in columns.items():
        if key in fixed:
            continue
        if key not in data:
            if not col.nullable and col.default is None:
                raise InvalidInput(f"{where}.{key}", "is required")
            continue
        values[key] = typed(data[key], col, f"{where}.{key}")
    return model(**(values | fixed))


def an_id(value, where: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise InvalidInput(where, "must be an identifier of letters, digits, - and _")
    return value


def _one_of(value, allowed, where: str) -> None:
    if value not in allowed:
        raise InvalidInput(where, f"must be one of {', '.join(allowed)}")


class Plan:
    """The rows to add and the stored files they need, all checked; nothing is written yet."""

    def __init__(self, ctx, owner: str, bundle: dict, keys):
        self.ctx, self.owner = ctx, owner
        self.rows: list = []
        self.files: list[tuple[str, str, int, str | None, str]] = []  # (sent name, sha256, size, dataset, how)
        self.keys: dict[str, bytes] = {}
        self.datasets: list[str] = []
        self.counts = {"versions": 0, "files": 0, "links": 0, "committee": 0, "requests": 0, "grants": 0}
        items = bundle.get("datasets")
        if not isinstance(items, list) or not items:
            raise InvalidInput("bundle.datasets", "must list the datasets to move in")
        if not isinstance(keys, dict):
            raise InvalidInput("keys", "must map dataset ids to their data keys")
        for i, item in enumerate(items):
            self._dataset(item, keys, f"bundle.datasets[{i}]")
        stray = set(keys) - set(self.keys)
        if stray:
            raise InvalidInput("keys", f"'{sorted(stray)[0]}' is not an encrypted dataset of the bundle")

    def _dataset(self, item, keys, where) -> None:
        if not isinstance(item, dict):
            raise InvalidInput(where, "must be an object")
        unknown = set(item) - {"dataset", "key", "versions", "committee", "links", "requests"}
        if unknown:
            raise InvalidInput(f"{where}.{sorted(unknown)[0]}", "is not part of a dataset")
        ds = make(Dataset, item.get("dataset"), where + ".dataset", fixed={"owner": self.owner})
        ds_id = an_id(ds.id, where + ".dataset.id")
        if ds_id in self.datasets:
            raise InvalidInput(where + ".dataset.id", f"'{ds_id}' comes twice")
        _one_of(ds.access_level, policy.LEVELS, where + ".dataset.access_level")
        if ds.after_embargo is not None:
            _one_of(ds.after_embargo, policy.LEVELS, where + ".dataset.after_embargo")
        _one_of(ds.decision_rule, committee.RULES, where + ".dataset.decision_rule")
        # The JSON columns as the service's own validators would have them: what pages, inboxes and
        # citations read (someone else's inbox too, through a committee seat) never trips on them.
        checked = _within(where + ".dataset", metadata.validate, {"creators": ds.creators, "keywords": ds.keywords},
                          partial=True)  # fmt: skip
        if (checked["creators"], checked["keywords"]) != (ds.creators or [], ds.keywords or []):
            raise InvalidInput(where + ".dataset.creators", "must be as a share records them")
        ds.use_conditions = _within(where + ".dataset", duo.validate_conditions, ds.use_conditions)
        if not isinstance(ds.rights_declaration or {}, dict):
            raise InvalidInput(where + ".dataset.rights_declaration", "must be an object")
        self.datasets.append(ds_id)
        self.rows.append(ds)
        mine = {"dataset_id": ds_id}
        encrypted = self._key(ds, item.get("key"), keys, where)
        versions = _list(item, "versions", where)
        for j, v in enumerate(versions):
            self._version(ds, v, j, encrypted, f"{where}.versions[{j}]")
        if ds.latest_version != len(versions) or not versions:
            raise InvalidInput(where + ".dataset.latest_version", "must be the number of the dataset's last version")
        owners = committee.acting_owners(self.ctx.settings, self.owner)
        members = {}
        for j, r in enumerate(_list(item, "committee", where)):
            m = make(CommitteeMember, r, f"{where}.committee[{j}]", fixed=mine)
            members[an_id(m.id, f"{where}.committee[{j}].id")] = m
            self.rows.append(m)
        live = [m for m in members.values() if m.removed_at is None]
        if ds.access_level == policy.RESTRICTED and ds.withdrawn_at is None and not \
                1 <= ds.required_approvals <= sum(committee.counted(m, owners) for m in live):  # fmt: skip
            raise InvalidInput(where + ".dataset.required_approvals",
                               "a restricted dataset's committee needs that many members who are not its owner")  # fmt: skip
        self.counts["committee"] += len(members)
        for j, r in enumerate(_list(item, "links", where)):
            link = make(ReviewLink, r, f"{where}.links[{j}]", fixed=mine)
            an_id(link.id, f"{where}.links[{j}].id")
            if not 1 <= link.version_number <= ds.latest_version:
                raise InvalidInput(f"{where}.links[{j}].version_number", "is not a version of the dataset")
            self._hash(link.secret_hash, f"{where}.links[{j}].secret_hash")
            self.rows.append(link)
            self.counts["links"] += 1
        for j, r in enumerate(_list(item, "requests", where)):
            self._request(r, members, owners, mine, f"{where}.requests[{j}]")

    def _version(self, ds: Dataset, v, j: int, encrypted: bool, at: str) -> None:
        version = make(DatasetVersion, v, at, extra=("files",), fixed={"dataset_id": ds.id})
        if version.number != j + 1:
            raise InvalidInput(at + ".number", f"must be {j + 1}: versions are numbered from 1, in order")
        version.files = []
        for k, f in enumerate(_list(v, "files", at)):
            file_row = make(VersionFile, f, f"{at}.files[{k}]", extra=("stored",))
            if file_row.preview is not None and not isinstance(file_row.preview, dict):
                raise InvalidInput(f"{at}.files[{k}].preview", "must be an object")
            self._hash(file_row.sha256, f"{at}.files[{k}].sha256")
            try:
                named = "/".join(paths.relative_parts(file_row.path, include_hidden=True))
            except InvalidInput:
                named = None
            if named != file_row.path:
                raise InvalidInput(f"{at}.files[{k}].path", "must be a path inside the dataset, as a share names it")
            version.files.append(file_row)
            self._stored(ds, file_row, f.get("stored"), encrypted, f"{at}.files[{k}].stored")
        if (version.file_count, version.total_size) != (len(version.files), sum(f.size for f in version.files)):
            raise InvalidInput(at + ".file_count", "must be the number of the version's files (and total_size their bytes)")
        self.rows.append(version)
        self.counts["versions"] += 1

    def _request(self, r, members: dict, owners, mine: dict, at: str) -> None:
        req = make(AccessRequest, r, at, extra=("decisions", "grant"), fixed=mine)
        an_id(req.id, at + ".id")
        _one_of(req.status, (PENDING, APPROVED, DENIED), at + ".status")
        req.intended_use = _within(at, duo.validate_intended_use, req.intended_use)
        if not isinstance(req.flags, list) or not all(isinstance(f, str) for f in req.flags):
            raise InvalidInput(at + ".flags", "must be a list of texts")
        for name in ("status_secret_hash", "grant_secret_hash", "agreement_sha256"):
            self._hash(getattr(req, name), f"{at}.{name}")
        self.rows.append(req)
        self.counts["requests"] += 1
        for k, d in enumerate(_list(r, "decisions", at)):
            decision = make(Decision, d, f"{at}.decisions[{k}]", fixed={"request_id": req.id})
            _one_of(decision.decision, ("approve", "deny"), f"{at}.decisions[{k}].decision")
            member = members.get(decision.member_id)
            if member is None or not committee.counted(member, owners):
                raise InvalidInput(f"{at}.decisions[{k}].member_id",
                                   "is not a member of this dataset's committee who may decide")  # fmt: skip
            self.rows.append(decision)
        if r.get("grant") is not None:
            grant = make(Grant, r["grant"], at + ".grant", fixed=mine | {"request_id": req.id})
            an_id(grant.id, at + ".grant.id")
            self._hash(grant.secret_hash, at + ".grant.secret_hash")
            if req.status != APPROVED:
                raise InvalidInput(at + ".grant", "only an approved request has a grant")
            self.rows.append(grant)
            self.counts["grants"] += 1

    def _key(self, ds: Dataset, key, keys: dict, where: str) -> bool:
        """The dataset's key row (wrapped under the service's master key); True if its files are encrypted."""
        if key is None:
            if ds.access_level != policy.OPEN and ds.withdrawn_at is None:
                raise InvalidInput(where + ".key", "a dataset that is not open needs its data key")
            return False
        if not isinstance(key, dict):
            raise InvalidInput(where + ".key", "must be an object")
        times = {k: parse_when(f"{where}.key.{k}", key[k]) if key.get(k) else None
                 for k in ("created_at", "sealed_at", "destroyed_at")}  # fmt: skip
        master = self.ctx.keyring.master(create=True)
        if times["destroyed_at"] is not None:
            if ds.withdrawn_at is None:  # only a withdrawal destroys a key: a dataset in use keeps its files encrypted
                raise InvalidInput(where + ".key.destroyed_at", "only a withdrawn dataset's key is destroyed")
            self.rows.append(DatasetKey(dataset_id=ds.id, wrapped_key=None, master_key_id=master_key_id(master),
                                        created_at=times["created_at"] or self.ctx.now(), sealed_at=times["sealed_at"],
                                        destroyed_at=times["destroyed_at"]))  # fmt: skip
            return False
        try:
            data_key = base64.b64decode(keys.get(ds.id) or "", validate=True)
        except (binascii.Error, TypeError, ValueError):
            data_key = b""
        if len(data_key) != 32:
            raise InvalidInput(f"keys.{ds.id}", "must be the dataset's 256-bit data key, base64")
        self.keys[ds.id] = data_key
        self.rows.append(("key", ds.id, data_key, times["created_at"] or self.ctx.now()))
        return True

    def _stored(self, ds: Dataset, f: VersionFile, how, encrypted: bool, where: str) -> None:
        if ds.withdrawn_at is not None:
            if how is not None:
                raise InvalidInput(where, "a withdrawn dataset's files are gone: none is sent")
            return
        if f.damaged_at is not None:  # never taken on trust: it would keep someone else's blob alive
            raise InvalidInput(where, f"'{f.path}' is damaged in the local store: repair it "
                                      "(`jupyter datashare store check`) or withdraw the dataset first")  # fmt: skip
        if how == "plain":
            self.files.append((f"plain/{f.sha256}", f.sha256, f.size, ds.id if encrypted else None, "plain"))
        elif how == "encrypted" and encrypted:
            self.files.append((f"encrypted/{ds.id}/{f.sha256}", f.sha256, f.size, ds.id, "encrypted"))
        else:
            raise InvalidInput(where, "must be plain, or encrypted for a dataset with a data key")
        self.counts["files"] += 1

    @staticmethod
    def _hash(value, where: str) -> None:
        if not isinstance(value, str) or not _SHA256.fullmatch(value):
            raise InvalidInput(where, "must be a SHA-256 in hex")


def _within(where: str, validator, *args, **kwargs):
    """A validator's answer; its error names the field inside ``where``."""
    try:
        return validator(*args, **kwargs)
    except InvalidInput as exc:
        raise InvalidInput(f"{where}.{exc.field}", exc.message.removeprefix(exc.field + ": ")) from None


def _list(item: dict, name: str, where: str) -> list:
    value = item.get(name) or []
    if not isinstance(value, list):
        raise InvalidInput(f"{where}.{name}", "must be a list")
    return value
