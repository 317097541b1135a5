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


def test_a_store_from_the_first_schema_upgrades_in_place(tmp_path):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from jupyter_datashare.core.db import MIGRATIONS

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = make_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO datasets (id, owner, source_path, include_hidden, title, description, creators, keywords,"
            " license_id, access_level, embargo_lift_recorded, latest_version, created_at, updated_at)"
            " VALUES ('ds-old', 'ada', 'x', 0, 'Old', '', '[]', '[]', 'CC0-1.0', 'open', 0, 1,"
            " '2026-01-01 00:00:00', '2026-01-01 00:00:00')"))  # fmt: skip
    migrate(engine)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT title, required_approvals, decision_rule FROM datasets")).one()
    assert tuple(row) == ("Old", 1, "veto")
