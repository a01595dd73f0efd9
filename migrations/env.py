"""Alembic environment: run with the engine touchbase passes in, or with sqlalchemy.url."""

from alembic import context
from sqlalchemy import create_engine

from bot.storage.models import Base, include_in_comparison

config = context.config
target_metadata = Base.metadata


def _render_item(type_, obj, autogen_context):  # type: ignore[no-untyped-def]
    """Render our UTCDateTime as a plain timestamp, so migrations never import the models."""
    if type_ == "type" and obj.__class__.__name__ == "UTCDateTime":
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and obj.__class__.__name__ == "EncryptedText":
        return "sa.Text()"
    return False


def run_migrations_online() -> None:
    engine = config.attributes.get("engine") or create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            render_item=_render_item,
            include_object=include_in_comparison(connection.dialect.name),
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
