"""Alembic environment: run with the engine touchbase passes in, or with sqlalchemy.url.

For developers adding a migration: its revision id is four digits, one more than the head's
(0010 after 0009), and its file is named `<id>_<what it does>.py`:

    alembic revision --autogenerate --rev-id 0010 -m "what it does"

Two landed ids break that style, `0002b` and `0003r`: they stay as they are, since every
database records its revision in alembic_version, and renaming one would leave those
databases at a revision that no longer exists. tests/test_migrations.py checks the names.
"""

from alembic import context
from sqlalchemy import create_engine

from bot.storage import crypto
from bot.storage.models import Base
from bot.storage.schema import include_in_comparison

config = context.config
target_metadata = Base.metadata
# Whether this process stores personal fields encrypted (ENCRYPTION_KEYS set): a fact of the
# run, not code, handed to the migrations as a value (0005 leaves e-mail and phone out of
# the search text then), since a migration imports nothing from bot.
config.attributes.setdefault("encrypting", crypto.keyring() is not None)


def _render_item(type_, obj, autogen_context):  # type: ignore[no-untyped-def]
    """Render our UTCDateTime as a plain timestamp, so migrations never import the models."""
    if type_ == "type" and obj.__class__.__name__ == "UTCDateTime":
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and obj.__class__.__name__ in ("EncryptedText", "EncryptedJSON"):
        return "sa.Text()"
    return False


def _sqlite_foreign_keys(connection, on: bool) -> None:  # type: ignore[no-untyped-def]
    """SQLite takes this pragma only outside a transaction: send it on the driver's own
    connection, which SQLAlchemy would otherwise wrap in a BEGIN."""
    connection.connection.driver_connection.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def run_migrations_online() -> None:
    engine = config.attributes.get("engine") or create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode changes a table by copying it and dropping the old one; with
            # enforcement on, that drop would delete every row referring to the table (SQLite,
            # "Making Other Kinds Of Table Schema Changes"). A migration that copies a table
            # runs `PRAGMA foreign_key_check` before it commits.
            _sqlite_foreign_keys(connection, on=False)
        try:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=sqlite,
                compare_type=True,
                render_item=_render_item,
                include_object=include_in_comparison(connection.dialect.name),
            )
            with context.begin_transaction():
                context.run_migrations()
            if sqlite:
                connection.commit()
                _sqlite_foreign_keys(connection, on=True)
        except BaseException:
            if sqlite:
                connection.invalidate()  # never back to the pool with enforcement off
            raise


run_migrations_online()
