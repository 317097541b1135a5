"""What each kind of viewer gets to see of a dataset, as plain dictionaries.

Anonymous review views carry no creators, owner or affiliation: they are built from an
allow-list of fields, so a field added to the model later cannot leak by default.
"""

from __future__ import annotations

from .clock import iso
from .metadata import LICENCES
from .models import Dataset, DatasetVersion, ReviewLink, VersionFile
from . import previews
from .policy import level_in_force


def licence(ds: Dataset) -> dict:
    known = LICENCES.get(ds.license_id)
    if known:
        return {"id": ds.license_id, **known}
    return {"id": ds.license_id, "name": ds.license_id, "text": ds.license_text}


def access(ds: Dataset, now) -> dict:
    return {
        "level": ds.access_level,
        "level_in_force": level_in_force(ds, now),
        "embargo_until": iso(ds.embargo_until),
        "after_embargo": ds.after_embargo,
    }


def version(v: DatasetVersion) -> dict:
    return {"number": v.number, "created_at": iso(v.created_at), "file_count": v.file_count, "total_size": v.total_size}


def files(rows: list[VersionFile], preview_rows: bool = True) -> list[dict]:
    return [{"path": f.path, "size": f.size, "sha256": f.sha256, "preview": previews.public_part(f.preview, preview_rows)}
            for f in rows]  # fmt: skip


def public(ds: Dataset, v: DatasetVersion, rows: list[VersionFile], now, *, anonymous: bool = False,
           preview_rows: bool | None = None) -> dict:  # fmt: skip
    """``preview_rows``: show tables' first rows (default: only where the files are open anyway)."""
    if preview_rows is None:
        preview_rows = level_in_force(ds, now) == "open" or ds.preview_rows_public
    out = {
        "id": ds.id,
        "title": ds.title,
        "description": ds.description,
        "keywords": list(ds.keywords or []),
        "license": licence(ds),
        "related_publication": ds.related_publication,
        "access": access(ds, now),
        "version": v.number,
        "latest_version": ds.latest_version,
        "created_at": iso(v.created_at),
        "files": files(rows, preview_rows),
        "file_count": v.file_count,
        "total_size": v.total_size,
        "withdrawn": ds.withdrawn_at is not None,
    }
    if not anonymous:
        out["creators"] = [dict(c) for c in ds.creators or []]
    return out


def owner(ds: Dataset, v: DatasetVersion, rows: list[VersionFile], now) -> dict:
    # Everything PATCH accepts is shown here too, so an edit form starts from the stored values.
    return public(ds, v, rows, now, preview_rows=True) | {
        "preview_rows_public": ds.preview_rows_public,
        "provenance": ds.provenance or "",
        "rights_declaration": dict(ds.rights_declaration or {}),
        "use_conditions": list(ds.use_conditions or []),
        "agreement": ds.agreement or "",
        "owner": ds.owner,
        "source_path": ds.source_path,
        "include_hidden": ds.include_hidden,
        "versions": [version(x) for x in ds.versions],
        "updated_at": iso(ds.updated_at),
        "withdrawn_at": iso(ds.withdrawn_at),
        "withdrawal_reason": ds.withdrawal_reason,
    }


def summary(row, now) -> dict:
    """A list's entry, from a row of core/catalogue.py (the dataset's columns and its latest
    version's ``file_count`` and ``total_size``): nothing here may need another query."""
    return {
        "id": row.id,
        "title": row.title,
        "access": access(row, now),
        "version": row.latest_version,
        "file_count": row.file_count or 0,
        "total_size": row.total_size or 0,
        "created_at": iso(row.created_at),
        "withdrawn": row.withdrawn_at is not None,
    }


def link(row: ReviewLink, now) -> dict:
    if row.revoked_at is not None:
        state = "revoked"
    elif row.expires_at <= now:
        state = "expired"
    else:
        state = "active"
    return {
        "id": row.id,
        "dataset_id": row.dataset_id,
        "version": row.version_number,
        "label": row.label,
        "anonymous": row.anonymous,
        "allow_restricted": row.allow_restricted,
        "created_at": iso(row.created_at),
        "expires_at": iso(row.expires_at),
        "revoked_at": iso(row.revoked_at),
        "use_count": row.use_count,
        "last_used_at": iso(row.last_used_at),
        "state": state,
    }
