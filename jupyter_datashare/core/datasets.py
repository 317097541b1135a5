"""Sharing a file or folder as a dataset, publishing versions, changing metadata, withdrawing.

Files are frozen into the blob store before the database transaction that makes the dataset
exist; that transaction also writes the audit event. A crash in between leaves at most
unreferenced blobs, never a half-shared dataset or a state change without its event.

Sharing and publishing a version come in two steps, so that a long freeze can run as a
background job while bad input is still refused at once: ``check_share`` / ``check_new_version``
validate everything and list the files (nothing is stored), ``freeze_and_share`` /
``freeze_new_version`` do the work. ``share`` and ``new_version`` run both in a row.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from . import bounds, committee, duo, keyring, manifests, metadata, paths, policy, previews, privacy
from .folders import forbidden_paths, share_root
from .audit import Event
from .db import reading, writing
from .errors import InvalidInput, NotFound
from .models import Dataset, DatasetVersion, ReviewLink, VersionFile
from .secrets import new_id
from .store import SourceUnreadable, open_source

RESTRICTED_FIELDS = {"committee", "use_conditions", "agreement"}
SHARE_FIELDS = {"path", "include_hidden", "access", "privacy_override", "preview_rows_public", manifests.FIELD,
                *metadata.FIELDS, *RESTRICTED_FIELDS}  # fmt: skip
UPDATE_FIELDS = {"access", "privacy_override", "preview_rows_public", *metadata.FIELDS, *RESTRICTED_FIELDS}


def _goes_public(access) -> bool:
    """Open now, or open by itself once an embargo ends: check for identifiers before either."""
    return access is not None and policy.OPEN in (access.level, access.after_embargo)


def _record_override(ctx, session, owner, dataset_id, findings, reason, client) -> None:
    if reason:
        ctx.audit.append(session, Event("privacy.overridden", owner, dataset_id=dataset_id, client=client, reason=reason,
                                        details={"findings": findings}))  # fmt: skip


def reject_unknown(body, allowed: set[str], what: str) -> None:
    if not isinstance(body, dict):
        raise InvalidInput("body", "must be a JSON object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise InvalidInput(unknown[0], f"is not a field of {what}")


def _bool(body: dict, field: str, default: bool = False) -> bool:
    value = body.get(field, default)
    if not isinstance(value, bool):
        raise InvalidInput(field, "must be true or false")
    return value


def _freeze(ctx, source_files, progress=None, dataset_id=None, data_key=None, file_done=None, pins=None,
            expected=None) -> list[dict]:  # fmt: skip
    """Copy the files into the store; encrypted for ``dataset_id`` if a data key is given; each
    one held against ``expected`` (a client's manifest) as soon as its hash is known.

    ``progress(n)`` hears about every chunk of n bytes, ``file_done()`` about every file frozen.
    """
    manifest = []
    try:
        for f in source_files:
            try:
                # The very file that was checked, opened without following links (see paths).
                src = open_source(f)
            except SourceUnreadable as exc:
                # Checked when the share was asked for; gone or swapped since (a background job).
                raise InvalidInput("path", f"'{f.relpath}' changed or could not be read while it was being "
                                           f"frozen ({exc.reason}); nothing was stored") from None  # fmt: skip
            with src:
                if data_key is None:
                    sha, size = ctx.store.freeze(src, progress, pins)
                else:
                    sha, size = ctx.store.freeze_encrypted(src, dataset_id, data_key, progress)
                manifests.check_hash(expected, f.relpath, sha)
                # From the source, before encryption: reading a table's head is cheap and bounded.
                preview = previews.preview(_same_file(src, f), f.relpath)
            manifest.append({"path": f.relpath, "size": size, "sha256": sha, "preview": preview})
            if file_done:
                file_done()
    except BaseException:
        if data_key is not None and not keyring.has_key(ctx, dataset_id):
            ctx.store.remove_dataset(dataset_id)  # a new dataset's files, whose key dies here
        raise
    return manifest


def _same_file(src, f) -> str:
    """A name for the open file ``src`` that cannot lead to another file (Linux: /proc/self/fd)."""
    by_fd = f"/proc/self/fd/{src.fileno()}"
    return by_fd if os.path.exists(by_fd) else f.abspath


def _total_size(files) -> int:
    """The bytes a freeze will copy, known before it starts (a job's progress is measured against it)."""
    try:
        return sum(f.size if f.size is not None else os.stat(f.abspath).st_size for f in files)
    except OSError as exc:
        raise InvalidInput("path", f"a file vanished while the folder was listed ({exc.strerror})") from None


def _add_version(session, dataset: Dataset, number: int, manifest: list[dict], now) -> DatasetVersion:
    version = DatasetVersion(
        dataset_id=dataset.id,
        number=number,
        created_at=now,
        file_count=len(manifest),
        total_size=sum(f["size"] for f in manifest),
    )
    session.add(version)
    session.flush()
    session.add_all(VersionFile(version_id=version.id, **f) for f in manifest)
    return version


def _restricted_settings(body: dict, owners: frozenset[str], access, current_committee: dict | None = None) -> dict:
    """The committee, data use conditions and agreement, checked against the level asked for."""
    out: dict = {}
    if "use_conditions" in body:
        out["use_conditions"] = duo.validate_conditions(body["use_conditions"])
    if "agreement" in body:
        if not isinstance(body["agreement"], str):
            raise InvalidInput("agreement", "must be the text of the data use agreement")
        out["agreement"] = bounds.text("agreement", body["agreement"], bounds.LONG_TEXT).strip()
    spec = committee.parse(body["committee"]) if "committee" in body else current_committee
    restricted_now_or_later = access is not None and policy.RESTRICTED in (access.level, access.after_embargo)
    if restricted_now_or_later:
        committee.check_quorum_possible(spec or {"members": [], "required_approvals": 1}, owners)
    out["committee"] = spec if "committee" in body else None
    return out


@dataclass
class SharePlan:
    """A share that passed every check: who shares what, and how. Nothing is stored yet."""

    owner: str
    include_hidden: bool
    preview_rows_public: bool
    meta: dict
    access: policy.Access
    restricted: dict
    source_path: str  # relative to the server root
    files: list[paths.SourceFile]
    bytes_total: int
    findings: list = field(default_factory=list)
    override: str | None = None
    expected: dict | None = None  # a client's manifest: path -> SHA-256

    @property
    def files_total(self) -> int:
        return len(self.files)


def check_fields(ctx, owner: str, body: dict) -> tuple:
    """Every field of a share that its files do not decide (what a client checks before it uploads
    them): a bad one raises InvalidInput naming it. Returns what check_share goes on with."""
    reject_unknown(body, SHARE_FIELDS, "a dataset")
    include_hidden = _bool(body, "include_hidden")
    meta = metadata.validate(body)
    access = policy.validate_access(body.get("access", {"level": policy.OPEN}), ctx.now())
    restricted = _restricted_settings(body, committee.acting_owners(ctx.settings, owner), access)
    expected = manifests.parse(body.get(manifests.FIELD))
    paths.relative_parts(body.get("path"), include_hidden)
    _bool(body, "preview_rows_public")
    return include_hidden, meta, access, restricted, expected


def check_share(ctx, owner: str, body: dict) -> SharePlan:
    """Validate everything a share needs and list its files; a bad field raises InvalidInput."""
    include_hidden, meta, access, restricted, expected = check_fields(ctx, owner, body)
    root = share_root(ctx, owner)
    forbidden = paths.Forbidden(forbidden_paths(ctx))
    target = paths.resolve(root, body.get("path"), include_hidden, forbidden=forbidden)
    files = paths.collect(root, target, include_hidden, forbidden=forbidden)
    manifests.check_names(expected, [f.relpath for f in files])
    findings = privacy.scan_files([(f.relpath, f.abspath) for f in files], [owner]) if _goes_public(access) else []
    override = privacy.require_override(findings, body.get("privacy_override"))
    source = str(target.relative_to(Path(root).resolve())).replace("\\", "/")
    return SharePlan(owner, include_hidden, _bool(body, "preview_rows_public"), meta, access, restricted, source, files,
                     _total_size(files), findings, override, expected)  # fmt: skip


def share(ctx, owner: str, body: dict, *, client: str | None = None, progress=None,
          committee_links: list | None = None) -> str:  # fmt: skip
    """Validate everything, freeze the files, then create the dataset; returns its id.

    New external committee members' (member, secret) pairs are appended to ``committee_links``:
    their personal links can be shown this once only.
    """
    plan = check_share(ctx, owner, body)
    return freeze_and_share(ctx, plan, client=client, progress=progress, committee_links=committee_links)


def freeze_and_share(ctx, plan: SharePlan, *, client: str | None = None, progress=None, file_done=None,
                     committee_links: list | None = None) -> str:  # fmt: skip
    """Freeze the checked files, then create the dataset and its audit event in one commit."""
    owner, access, restricted = plan.owner, plan.access, plan.restricted
    dataset_id = new_id("ds-")
    # The files of a dataset that is not open are encrypted as they are frozen: never plain on disk.
    data_key = ctx.keyring.new_data_key() if access.level != policy.OPEN else None
    # Pinned from freeze to commit: a withdrawal's clean-up meanwhile must not take their blobs.
    with ctx.store.pinning() as pins:
        manifest = _freeze(ctx, plan.files, progress, dataset_id, data_key, file_done, pins, plan.expected)
        now = ctx.now()  # when the dataset came to exist: after a long freeze, not when it was asked for
        with writing(ctx.engine) as s:
            dataset = _new_dataset(plan, dataset_id, now)
            s.add(dataset)
            s.flush()
            if data_key is not None:
                ctx.keyring.add(s, dataset.id, data_key, now, sealed=True)
            _add_version(s, dataset, 1, manifest, now)
            ctx.audit.append(s, Event("dataset.shared", owner, dataset_id=dataset.id, version=1, client=client,
                                      details={"level": access.level, "files": len(manifest)}))  # fmt: skip
            _record_override(ctx, s, owner, dataset.id, plan.findings, plan.override, client)
            if restricted["committee"]:
                created = committee.apply(ctx, s, dataset, restricted["committee"], owner, client)
                if committee_links is not None:
                    committee_links.extend(created)
            return dataset.id


def _new_dataset(plan: SharePlan, dataset_id: str, now) -> Dataset:
    access, restricted = plan.access, plan.restricted
    dataset = Dataset(id=dataset_id, owner=plan.owner, source_path=plan.source_path, include_hidden=plan.include_hidden,
                      access_level=access.level, embargo_until=access.embargo_until, after_embargo=access.after_embargo,
                      latest_version=1, created_at=now, updated_at=now, **plan.meta)  # fmt: skip
    dataset.preview_rows_public = plan.preview_rows_public
    dataset.use_conditions = restricted.get("use_conditions", [])
    dataset.agreement = restricted.get("agreement", "")
    return dataset


def owned(session, owner: str, dataset_id: str) -> Dataset:
    ds = session.get(Dataset, dataset_id) if isinstance(dataset_id, str) else None
    if ds is None or ds.owner != owner:
        raise NotFound(f"no dataset '{dataset_id}'")
    return ds


def update(ctx, owner: str, dataset_id: str, body: dict, *, client: str | None = None,
           committee_links: list | None = None) -> None:  # fmt: skip
    reject_unknown(body, UPDATE_FIELDS, "a dataset update")
    now = ctx.now()
    changes = metadata.validate(body, partial=True)
    access = policy.validate_access(body["access"], now) if "access" in body else None
    findings, override = [], None
    if _goes_public(access):
        before = load_owned(ctx, owner, dataset_id)
        if policy.level_in_force(before, now) != policy.OPEN and before.withdrawn_at is None:
            findings = privacy.scan_dataset(ctx, owner, before, identities=[owner])
        override = privacy.require_override(findings, body.get("privacy_override"))
    with writing(ctx.engine) as s:
        ds = owned(s, owner, dataset_id)
        if ds.withdrawn_at is not None:
            raise InvalidInput("id", "the dataset was withdrawn and can no longer change")
        _record_override(ctx, s, owner, ds.id, findings, override, client)
        current = {"members": [committee.member_view(m, owner) for m in committee.active(s, ds.id)],
                   "required_approvals": ds.required_approvals, "rule": ds.decision_rule}  # fmt: skip
        in_force = access or policy.Access(ds.access_level, ds.embargo_until, ds.after_embargo)
        restricted = _restricted_settings(body, committee.acting_owners(ctx.settings, owner), in_force, current)
        changes.update({k: restricted[k] for k in ("use_conditions", "agreement") if k in restricted})
        if "preview_rows_public" in body:
            changes["preview_rows_public"] = _bool(body, "preview_rows_public")
        if restricted["committee"]:
            created = committee.apply(ctx, s, ds, restricted["committee"], owner, client)
            if committee_links is not None:
                committee_links.extend(created)
        changed = sorted(k for k, v in changes.items() if getattr(ds, k) != v)
        for k, v in changes.items():
            setattr(ds, k, v)
        if changed:
            ctx.audit.append(s, Event("dataset.updated", owner, dataset_id=ds.id, client=client,
                                      details={"fields": changed}))  # fmt: skip
        if access is not None:
            before = policy.level_in_force(ds, now)
            ds.access_level, ds.embargo_until, ds.after_embargo = access.level, access.embargo_until, access.after_embargo
            ds.embargo_lift_recorded = False
            ctx.audit.append(s, Event("access.changed", owner, dataset_id=ds.id, client=client,
                                      details={"from": before, "to": access.level,
                                               "embargo_until": access.embargo_until.isoformat() if access.embargo_until else None}))  # fmt: skip
        ds.updated_at = now
    if access is not None and access.level != policy.OPEN:
        keyring.seal(ctx, dataset_id, actor=owner, client=client)  # no longer open: encrypt its files


@dataclass
class VersionPlan:
    """A new version that passed every check: the files it will freeze. Nothing is stored yet."""

    owner: str
    dataset_id: str
    encrypted: bool
    files: list[paths.SourceFile]
    bytes_total: int
    expected: dict | None = None  # a client's manifest: path -> SHA-256

    @property
    def files_total(self) -> int:
        return len(self.files)


def check_new_version(ctx, owner: str, dataset_id: str, expected_files=None) -> VersionPlan:
    """Check the dataset can get a new version and list its source's current files (held to a
    client's manifest, ``expected_files``, when one is sent)."""
    expected = manifests.parse(expected_files)
    with reading(ctx.engine) as s:
        ds = owned(s, owner, dataset_id)
        if ds.withdrawn_at is not None:
            raise InvalidInput("id", "the dataset was withdrawn")
        source, hidden = ds.source_path, ds.include_hidden
        encrypted = keyring.encrypts(s, ds)
    root = share_root(ctx, owner)
    forbidden = paths.Forbidden(forbidden_paths(ctx))
    target = paths.resolve(root, source, hidden, forbidden=forbidden)
    files = paths.collect(root, target, hidden, forbidden=forbidden)
    manifests.check_names(expected, [f.relpath for f in files])
    return VersionPlan(owner, dataset_id, encrypted, files, _total_size(files), expected)


def new_version(ctx, owner: str, dataset_id: str, *, client: str | None = None, progress=None) -> int:
    """Freeze the current files of the dataset's source path as its next version."""
    return freeze_new_version(ctx, check_new_version(ctx, owner, dataset_id), client=client, progress=progress)


def freeze_new_version(ctx, plan: VersionPlan, *, client: str | None = None, progress=None, file_done=None) -> int:
    owner, dataset_id = plan.owner, plan.dataset_id
    data_key = keyring.seal(ctx, dataset_id, actor=owner, client=client) if plan.encrypted else None
    # Pinned from freeze to commit: a withdrawal's clean-up meanwhile must not take their blobs.
    with ctx.store.pinning() as pins:
        manifest = _freeze(ctx, plan.files, progress, dataset_id, data_key, file_done, pins, plan.expected)
        now = ctx.now()
        with writing(ctx.engine) as s:
            ds = owned(s, owner, dataset_id)
            if ds.withdrawn_at is not None:  # withdrawn while a background job was freezing
                raise InvalidInput("id", "the dataset was withdrawn while the version was being frozen")
            number = ds.latest_version + 1
            _add_version(s, ds, number, manifest, now)
            ds.latest_version = number
            ds.updated_at = now
            ctx.audit.append(s, Event("version.published", owner, dataset_id=ds.id, version=number, client=client,
                                      details={"files": len(manifest)}))  # fmt: skip
            return number


def withdraw(ctx, owner: str, dataset_id: str, reason: str = "", *, client: str | None = None) -> None:
    if not isinstance(reason, str):
        raise InvalidInput("reason", "must be a string")
    now = ctx.now()
    with writing(ctx.engine) as s:
        ds = owned(s, owner, dataset_id)
        if ds.withdrawn_at is not None:
            raise InvalidInput("id", "the dataset was already withdrawn")
        ds.withdrawn_at, ds.withdrawal_reason, ds.updated_at = now, reason.strip() or None, now
        for link in s.scalars(select(ReviewLink).where(ReviewLink.dataset_id == ds.id, ReviewLink.revoked_at.is_(None))):
            link.revoked_at = now
        keyring.destroy(ctx, s, ds.id, now, actor=owner, client=client)  # crypto-shredding, in this commit
        ctx.audit.append(s, Event("dataset.withdrawn", owner, dataset_id=ds.id, client=client, reason=reason or None))
    # Only after the commit: bytes no live version needs are removed from disk.
    keyring.remove_withdrawn_files(ctx, ds.id)


def record_embargo_lift(ctx, dataset) -> None:
    """Write ``embargo.lifted`` the first time anyone observes the embargo to be over (``dataset``:
    a Dataset, or a list's row with its access columns, which is left as it is)."""
    now = ctx.now()
    if not policy.embargo_just_lifted(dataset, now):
        return
    with writing(ctx.engine) as s:
        ds = s.get(Dataset, dataset.id)
        if not policy.embargo_just_lifted(ds, now):  # another request got there first
            return
        ds.embargo_lift_recorded = True
        ctx.audit.append(s, Event("embargo.lifted", "system", dataset_id=ds.id,
                                  details={"embargo_until": ds.embargo_until.isoformat(), "now": ds.after_embargo}))  # fmt: skip
    if isinstance(dataset, Dataset):
        dataset.embargo_lift_recorded = True


def ids_of(ctx, owner: str) -> list[str]:
    """The ids of ``owner``'s datasets, withdrawn ones too."""
    with reading(ctx.engine) as s:
        return list(s.scalars(select(Dataset.id).where(Dataset.owner == owner)))


def load(ctx, dataset_id: str, *, versions: bool = True) -> Dataset | None:
    """The dataset (with its versions, unless ``versions=False``: a download needs none of them)."""
    with reading(ctx.engine) as s:
        ds = s.get(Dataset, dataset_id) if isinstance(dataset_id, str) else None
        if ds is not None and versions:
            ds.versions  # load while the session is open
    if ds is not None:
        record_embargo_lift(ctx, ds)
    return ds


def load_owned(ctx, owner: str, dataset_id: str) -> Dataset:
    ds = load(ctx, dataset_id)
    if ds is None or ds.owner != owner:
        raise NotFound(f"no dataset '{dataset_id}'")
    return ds


def describe_for_owner(ctx, owner: str, dataset_id: str, number: int | None = None) -> dict:
    """Everything the owner sees of one version (the latest unless ``number``)."""
    from . import views

    ds = load_owned(ctx, owner, dataset_id)
    v, rows = version_files(ctx, ds.id, number or ds.latest_version)
    return views.owner(ds, v, rows, ctx.now())


def list_owned(ctx, owner: str, include_withdrawn: bool = False) -> list[Dataset]:
    with reading(ctx.engine) as s:
        q = select(Dataset).where(Dataset.owner == owner).order_by(Dataset.created_at.desc())
        if not include_withdrawn:
            q = q.where(Dataset.withdrawn_at.is_(None))
        found = list(s.scalars(q))
        for ds in found:
            ds.versions
    for ds in found:
        record_embargo_lift(ctx, ds)
    return found


def version_files(ctx, dataset_id: str, number: int) -> tuple[DatasetVersion, list[VersionFile]]:
    with reading(ctx.engine) as s:
        v = s.scalar(select(DatasetVersion).where(DatasetVersion.dataset_id == dataset_id, DatasetVersion.number == number))
        if v is None:
            raise NotFound(f"no version {number} of this dataset")
        return v, list(v.files)
