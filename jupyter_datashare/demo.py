"""A small demo: made-up files and one shared dataset of each access level (``jupyter datashare demo DIR``).

Everything here goes through the core, as a researcher would; running it again adds nothing.
"""

from __future__ import annotations

import csv
import io
import os
import random
from datetime import date, timedelta

from .core import datasets, links, views

CLIENT = "cli"

ADA = {"name": "Ada Example", "orcid": "0000-0002-1825-0097", "affiliation": "Example University, Dept. of Hydrology"}
BOB = {"name": "Bruno Sample", "affiliation": "Institute of Placeholder Studies"}
CHI = {"name": "Chidi Testwell", "affiliation": "Example University Hospital"}


def _table(header: list[str], rows: list[list]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def _river(rng: random.Random) -> str:
    rows, day = [], date(2025, 4, 1)
    for i in range(36):
        for site in ("upstream", "bridge", "estuary"):
            temp = 9 + 8 * (i / 36) + rng.uniform(-0.8, 0.8) + (1.5 if site == "estuary" else 0)
            rows.append([site, (day + timedelta(days=7 * i)).isoformat(), round(rng.uniform(0.2, 1.5), 2),
                         round(temp, 2), round(11.5 - 0.25 * temp + rng.uniform(-0.3, 0.3), 2)])  # fmt: skip
    return _table(["site", "date", "depth_m", "temperature_c", "dissolved_oxygen_mg_l"], rows)


def _soil(rng: random.Random) -> str:
    rows = [[f"C{n:03d}", plot, depth, round(rng.uniform(0.8, 4.5) - depth / 60, 2), round(rng.uniform(5.2, 7.4), 2)]
            for n, (plot, depth) in enumerate(((p, d) for p in "ABCD" for d in (10, 30, 50)), 1)]  # fmt: skip
    return _table(["core_id", "plot", "depth_cm", "organic_carbon_pct", "ph"], rows)


def _figure(rng: random.Random) -> str:
    rows = [[g, dose, r, round(0.1 + 0.8 * dose / (dose + 5) * (1.3 if g == "treated" else 1) + rng.gauss(0, 0.04), 3)]
            for g in ("control", "treated") for dose in (0, 1, 2, 5, 10, 20) for r in (1, 2, 3)]  # fmt: skip
    return _table(["group", "dose_mg", "replicate", "response"], rows)


def _participants(rng: random.Random) -> str:
    rows = [[f"P{n:03d}", rng.choice(["18-29", "30-44", "45-64", "65+"]), rng.choice(["F", "M", "X"]),
             rng.randint(1, 5), rng.randint(1, 5)] for n in range(1, 41)]  # fmt: skip
    return _table(["participant", "age_band", "gender", "sleep_quality_1to5", "stress_1to5"], rows)


WALKTHROUGH = [
    ("markdown", "# Sharing data with jupyter-datashare\n\nThis notebook walks through what a researcher, a "
     "reviewer, a requester and a committee member each do. Run the cells in order."),
    ("code", "import pandas as pd\nimport jupyter_datashare as ds\nds.list_datasets()"),
    ("markdown", "## 1. Share a table as a reviewer-only dataset\nThe file is frozen (checksummed, "
     "encrypted at rest because it is not open) and every access to it is logged."),
    ("code", "df = pd.DataFrame({'site': ['A', 'B', 'C'], 'count': [3, 5, 8]})\n"
     "d = ds.share(df, title='Walkthrough counts', name='walkthrough-counts', level='reviewer-only')\nd"),
    ("markdown", "## 2. Give a reviewer a private link\nThe URL is shown once. Open it in a private browser "
     "window: that is what the reviewer sees, without a Jupyter account."),
    ("code", "link = ds.link(d.id, label='Reviewer 1', days=30, anonymous=True)\nprint(link.url)"),
    ("code", "ds.read(link.url)  # reading through the link is logged like the reviewer's download"),
    ("markdown", "## 3. Cite it in the manuscript\n"),
    ("code", "print(ds.cite(d.id))\nprint(ds.cite(d.id, 'availability'))"),
    ("markdown", "## 4. Request and decide access to restricted data\nOpen the landing page of the restricted "
     "demo dataset (printed by `jupyter datashare demo`), fill in the request form, and keep the status "
     "link. A committee member decides on their personal committee link (also printed by the demo) or "
     "through `datashare/api/requests`; the status page then shows the downloads until the grant expires."),
    ("code", "[(x.id, x.access['level_in_force']) for x in ds.list_datasets()]"),
]


def _notebook() -> str:
    import json

    # nbformat 4.5 wants an id per cell; stable ones keep a re-made demo identical.
    cells = [{"id": f"walkthrough-{i}", "cell_type": kind, "metadata": {}, "source": text,
              **({"outputs": [], "execution_count": None} if kind == "code" else {})}
             for i, (kind, text) in enumerate(WALKTHROUGH)]  # fmt: skip
    return json.dumps({"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                   "language": "python"}},
                       "nbformat": 4, "nbformat_minor": 5}, indent=1) + "\n"  # fmt: skip


def files() -> dict[str, str]:
    """The demo's files (relative path -> text); the same every time."""
    rng = random.Random(2026)
    return {
        "walkthrough.ipynb": _notebook(),
        "river-survey/measurements.csv": _river(rng),
        "river-survey/README.txt": "Weekly river temperature and dissolved oxygen at three sites, April-December 2025.\n"
        "Made-up data for the jupyter-datashare demo.\n",
        "soil-cores/cores.csv": _soil(rng),
        "soil-cores/README.txt": "Organic carbon and pH of soil cores from four plots at three depths.\n"
        "Made-up data for the jupyter-datashare demo.\n",
        "manuscript-figures/figure2_source_data.csv": _figure(rng),
        "manuscript-figures/analysis_notes.txt": "Dose-response source data for Figure 2 (three replicates per dose).\n",
        "restricted/interviews/participants.csv": _participants(rng),
        "restricted/interviews/codebook.txt": "participant: pseudonymous code; age_band: years; gender: self-reported;\n"
        "sleep_quality_1to5, stress_1to5: Likert scales. Made-up data for the demo.\n",
        "restricted/interviews/data-use-agreement.txt": "You may use these data only for the research purpose you were "
        "granted access for, must not try to re-identify anyone, and must delete them when access ends.\n",
    }


def datasets_to_share(today: date) -> list[dict]:
    """One share body per access level, plus the review links each one gets."""
    return [
        {"body": {"path": "river-survey", "title": "River temperature and oxygen survey, 2025",
                  "description": "Weekly measurements at three sites along a made-up river.",
                  "creators": [ADA, BOB], "keywords": ["hydrology", "water temperature", "demo"],
                  "license": "CC-BY-4.0", "access": {"level": "open"}},
         "links": []},
        {"body": {"path": "soil-cores", "title": "Soil organic carbon by depth",
                  "description": "Soil cores from four plots; the files open when the paper is out.",
                  "creators": [BOB, ADA], "keywords": ["soil", "carbon", "demo"], "license": "CC0-1.0",
                  "access": {"level": "embargoed", "embargo_until": (today + timedelta(days=182)).isoformat(),
                             "after_embargo": "open"}},
         "links": []},
        {"body": {"path": "manuscript-figures", "title": "Source data for Figure 2 (under review)",
                  "description": "Dose-response measurements behind Figure 2 of a manuscript under review.",
                  "creators": [ADA], "keywords": ["dose-response", "peer review", "demo"],
                  "license": "CC-BY-4.0", "related_publication": "10.5555/demo.2026.001",
                  "access": {"level": "reviewer-only"}},
         "links": [{"label": "Reviewer 1"}, {"label": "Anonymous reviewer", "anonymous": True}]},
        {"body": {"path": "restricted/interviews", "title": "Sleep and stress interviews (de-identified)",
                  "description": "Questionnaire answers of 40 participants. Shared on request with a data use agreement.",
                  "creators": [CHI, ADA], "keywords": ["sleep", "stress", "human subjects", "demo"],
                  "license": "CC-BY-NC-ND-4.0", "access": {"level": "restricted"},
                  "use_conditions": ["HMB", "NCU", "IRB"],
                  "agreement": "I will not try to re-identify participants, will keep the data on secured "
                               "institutional systems, and will delete it when my access ends.",
                  "committee": {"members": [{"name": "Dr. Grace Steward", "email": "steward@example.org"},
                                            {"name": "Prof. Lin Ethics", "email": "ethics@example.org"}],
                                "required_approvals": 1}},
         "links": [{"label": "Handling editor", "allow_restricted": True}]},
    ]  # fmt: skip


def write_files(root: str) -> list[str]:
    """Write the demo files under ``root``; files that already exist are left as they are."""
    written = []
    for rel, text in files().items():
        full = os.path.join(root, *rel.split("/"))
        if os.path.exists(full):
            continue
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        written.append(rel)
    return written


def run(ctx, owner: str) -> list[dict]:
    """Write the files and share what is not shared yet; returns one entry per dataset.

    Each entry has ``id``, ``level``, ``path``, ``title``, ``created`` and ``links`` (label, id,
    expires_at and the secret; only for links made now, as secrets are never kept).
    """
    write_files(ctx.settings.root_dir)
    existing = {d.source_path: d for d in datasets.list_owned(ctx, owner)}
    out = []
    for spec in datasets_to_share(ctx.now().date()):
        body = spec["body"]
        entry = {"path": body["path"], "level": body["access"]["level"], "title": body["title"], "links": []}
        if body["path"] in existing:
            out.append(entry | {"id": existing[body["path"]].id, "created": False})
            continue
        made: list = []
        dataset_id = datasets.share(ctx, owner, body, client=CLIENT, committee_links=made)
        entry["committee_links"] = [{"name": m.name, "secret": secret} for m, secret in made if secret]
        for link in spec["links"]:
            row, secret = links.create(ctx, owner, dataset_id, link, client=CLIENT)
            expires = views.link(row, ctx.now())["expires_at"]
            entry["links"].append({"label": row.label, "id": row.id, "expires_at": expires, "secret": secret})
        if body["access"]["level"] == "restricted":
            entry["pending_request"] = _pending_request(ctx, dataset_id)
        out.append(entry | {"id": dataset_id, "created": True})
    return out


def _pending_request(ctx, dataset_id: str) -> str:
    """One made-up request waiting for the committee, so there is something to decide."""
    from .core import requests

    body = {"name": "Rosalind Demo", "email": "rosalind.demo@example.org", "institution": "Example Institute",
            "purpose": "Replicate the published association between sleep quality and stress in adults, using the "
                       "de-identified answers only, for a methods paper on questionnaire reliability.",
            "intended_use": ["HMB"], "accept_agreement": True, "requested_days": 180}  # fmt: skip
    row, _ = requests.submit(ctx, dataset_id, body, client=CLIENT)
    return row.id
