"""Alembic environment: runs on the engine `ioc.migrate` hands over (never a URL in a file)."""

from alembic import context

from ioc.models import Base


def run_migrations() -> None:
    engine = context.config.attributes.get("engine")
    if engine is None:
        raise RuntimeError("run migrations through `ioc db upgrade`, which provides the database")
    with engine.begin() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
