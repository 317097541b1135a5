"""Every route of datashare: a pattern below its prefix and the handler that serves it, written
once for both adapters (the Jupyter extension, under ``datashare/``; the service, at its root)."""

from __future__ import annotations

from . import access, api, inbox, jobs, moving_in, public, transparency, uploads

SECRET = r"[^/]+"


def routes() -> list[tuple[str, type]]:
    """Every route (a pattern below our prefix, its handler's logic), for both adapters."""
    return [
        (r"api/datasets", api.DatasetsAPI),
        (r"api/datasets/([^/]+)", api.DatasetAPI),
        (r"api/datasets/([^/]+)/versions", api.VersionsAPI),
        (r"api/datasets/([^/]+)/files/(.+)", api.OwnerFileAPI),
        (r"api/datasets/([^/]+)/links", api.LinksAPI),
        (r"api/links/([^/]+)", api.LinkAPI),
        (r"api/jobs/([^/]+)", jobs.JobAPI),
        (r"api/datasets/([^/]+)/committee", access.CommitteeMembersAPI),
        (r"api/datasets/([^/]+)/grants", access.DatasetGrantsAPI),
        (r"api/requests", access.RequestsAPI),
        (r"api/requests/decisions", access.BulkDecisionAPI),
        (r"api/requests/([^/]+)", access.RequestAPI),
        (r"api/requests/([^/]+)/decision", access.DecisionAPI),
        (r"api/requests/([^/]+)/personal-data", access.PersonalDataAPI),
        (r"api/grants/([^/]+)", access.GrantAPI),
        (r"api/datasets/([^/]+)/citation", api.CitationAPI),
        (r"api/audit", api.AuditAPI),
        (r"api/audit/verify", api.AuditVerifyAPI),
        (r"api/audit/checkpoint", api.AuditCheckpointAPI),
        (r"checkpoint", transparency.PublicCheckpoint),
        (r"d/([^/]+)", public.DatasetPage),
        (r"d/([^/]+)/files/(.+)", public.DatasetFile),
        (r"d/([^/]+)/request", access.RequestForm),
        (r"d/([^/]+)/citation", public.DatasetCitation),
        (rf"s/({SECRET})", access.StatusPage),
        (rf"s/({SECRET})/renewal", access.StatusRenewal),
        (rf"g/({SECRET})/files/(.+)", access.GrantFile),
        (rf"c/({SECRET})", access.CommitteePage),
        (rf"r/({SECRET})", public.ReviewPage),
        (rf"r/({SECRET})/files/(.+)", public.ReviewFile),
        (r"([rsgc]/.*)", public.NotFoundPage),
    ]


def service_routes() -> list[tuple[str, type]]:
    """The service's own routes, besides every one of ``routes()``: its callers keep their files
    in their folder there (a Jupyter server shares from its own disk instead), and people who log
    in find their requests to decide and their datasets at its root (the panel, in JupyterLab)."""
    return [(r"api/files/(.+)", uploads.FolderFileAPI), (r"api/moved-stores", moving_in.MovedStoresAPI),
            (r"api/moved-stores/([^/]+)/audit", moving_in.MovedStoreAuditAPI), (r"", inbox.InboxPage)]
