"""Alembic environment: runs on the connection handed over by ``core.db.migrate``."""

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
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    if connection.in_transaction():
        connection.commit()


run()
