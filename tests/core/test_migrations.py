from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from jupyter_datashare.core.db import make_engine, migrate
from jupyter_datashare.core.models import Base


def test_migrations_build_exactly_the_models(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite'}")
    migrate(engine)
    migrate(engine)  # idempotent: an existing store upgrades in place
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
