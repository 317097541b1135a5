import json

import pandas as pd

from jupyter_datashare.core import privacy


def test_direct_identifiers_are_found_without_their_values(tmp_path):
    df = pd.DataFrame({
        "participant_email": ["a@x.org", "b@y.org", "c@z.org"],
        "contact": ["+44 20 7946 0958", "+1 (555) 010-9999", "0612345678"],
        "ssn": ["123-45-6789", "987-65-4321", "111-22-3333"],
        "DOB": ["1980-01-01", "1975-05-05", "1990-09-09"],
        "lat": ["51.507351", "48.856613", "52.520008"],
        "rounded_lat": ["51.5", "48.9", "52.5"],
        "score": ["1", "2", "3"],
    })  # fmt: skip
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    found = privacy.scan_files([("t.csv", str(path))])
    kinds = {(f["column"], f["kind"]) for f in found}
    assert ("participant_email", "e-mail address") in kinds and ("contact", "phone number") in kinds
    assert ("ssn", "national ID") in kinds and ("DOB", "date of birth") in kinds and ("lat", "precise location") in kinds
    assert not any(f["column"] in ("score", "rounded_lat") for f in found)
    text = json.dumps(found)
    assert "a@x.org" not in text and "123-45-6789" not in text  # counts, never values


def test_notebook_traces(tmp_path):
    nb = {"cells": [{"outputs": [{"text": "saved to /home/ada/secret/run.csv by ada@example.org"}]}],
          "metadata": {}}  # fmt: skip
    path = tmp_path / "analysis.ipynb"
    path.write_text(json.dumps(nb))
    found = privacy.scan_files([("analysis.ipynb", str(path))], identities=["Ada Example", "ada@example.org"])
    kinds = {f["kind"] for f in found}
    assert {"home folder path", "e-mail address", "your identity (name, user name or e-mail)"} <= kinds


def test_malformed_and_unknown_files_do_not_break_the_scan(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    other = tmp_path / "image.png"
    other.write_bytes(b"\x89PNG")
    assert privacy.scan_files([("bad.csv", str(bad)), ("image.png", str(other))]) == []


def test_dates_and_measurements_are_not_phone_numbers():
    df = pd.DataFrame({"date": ["2025-04-01", "2025-04-08"], "reading": ["123456789.5", "987654321.25"],
                       "when": ["01/04/2025", "08/04/2025"]})  # fmt: skip
    assert privacy.scan_table(df) == []
