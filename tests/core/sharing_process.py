"""A share (or a new version) run by another process on the same database and store, stopping
where a test asks it to: the store's protections between processes are file locks and hard
links, which only a real second process puts to the test."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

CHILD = textwrap.dedent("""
    import json, os, sys, time
    from jupyter_datashare.core import datasets
    from jupyter_datashare.core.service import DataShare
    from jupyter_datashare.core.settings import Settings

    root, data, db_url, signals, body, stops = sys.argv[1:7]
    core = DataShare(Settings(root_dir=root, data_dir=data, db_url=db_url, owner="ada-owner",
                              owner_identities=("ada-owner",)))
    stops = set(json.loads(stops))

    def step(name):  # tell the test; where it asked to stop, wait for its go-ahead
        print(name, flush=True)
        if name in stops:
            go = os.path.join(signals, name.replace(" ", "-"))
            while not os.path.exists(go):
                time.sleep(0.005)

    store = core.store
    freeze, freeze_encrypted, restore = store.freeze, store.freeze_encrypted, store._restore_from

    def frozen(real):
        def run(*args, **kwargs):
            sha, size = real(*args, **kwargs)
            step("frozen " + sha)  # in the store, and no version refers to it yet
            return sha, size
        return run

    def committed_then_restore(pin_dir):
        step("committed")  # the version is in the database; its pins are not put back yet
        restore(pin_dir)

    store.freeze, store.freeze_encrypted = frozen(freeze), frozen(freeze_encrypted)
    store._restore_from = committed_then_restore
    copied = [0]

    def progress(n):
        copied[0] += n
        if copied[0] == n:
            step("writing")  # its first chunk is in a temporary file of the store

    step("started")
    body = json.loads(body)
    if "version_of" in body:
        datasets.new_version(core, "ada-owner", body["version_of"], progress=progress)
    else:
        datasets.share(core, "ada-owner", body, progress=progress)
    core.close()
    step("done")
""")


class SharingProcess:
    def __init__(self, core, signals: Path, body: dict, stops=()):
        self.signals = signals
        signals.mkdir(parents=True, exist_ok=True)
        s = core.settings
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, s.root_dir, s.data_dir, s.db_url, str(signals), json.dumps(body),
             json.dumps(list(stops))],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.strip())
        self.lines.put(None)

    def wait_for(self, name: str, timeout: float = 120) -> None:
        while True:
            line = self.lines.get(timeout=timeout)
            if line is None:
                raise AssertionError(f"the other process ended before {name!r}: {self.proc.stderr.read()}")
            if line == name:
                return

    def go(self, name: str) -> None:
        (self.signals / name.replace(" ", "-")).touch()

    def finish(self) -> None:
        self.proc.wait(timeout=120)
        assert self.proc.returncode == 0, self.proc.stderr.read()
