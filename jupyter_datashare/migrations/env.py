"""Alembic environment: runs on the connection handed over by ``core.db.migrate``."""

from collections import Counter

from alembic import context
from sqlalchemy import create_engine

from jupyter_datashare.core import keyring  # noqa: F401  (its DatasetKey model is in the schema)
from jupyter_datashare.core.models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # `alembic` command line, e.g. to write a new revision
        engine = create_engine(config.get_main_option("sqlalchemy.url"))
        with engine.connect() as conn:
            _run_on(conn)
        return
    _run_on(connection)


def _run_on(connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    # One transaction for the whole upgrade, begun here: alembic on SQLite would otherwise
    # commit after each revision, and a failure halfway would leave a schema no release has.
    with connection.begin():
        before = _broken_references(connection) if sqlite else Counter()
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=sqlite)
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            # Foreign keys are off during the upgrade (core.db.migrate): check what it did.
            broken = _broken_references(connection) - before
            if broken:
                raise RuntimeError("the upgrade would break references between tables: "
                                   + ", ".join(f"{n} row(s) of {t} to {p}" for (t, p), n in sorted(broken.items())))


def _broken_references(connection) -> Counter:
    """(table, referenced table) -> rows whose foreign key points at nothing."""
    return Counter((row[0], row[2]) for row in connection.exec_driver_sql("PRAGMA foreign_key_check"))

run()
