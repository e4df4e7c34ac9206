"""A database the list's tests read, on either engine (a module's fixture), filled once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from callviewer import listing
from callviewer.store import Store


@contextmanager
def list_connection(request, tmp_path_factory, fill: Callable[[Store], None]) -> Iterator:
    """The list's read connection to a new database on the engine `request.param` names
    ("sqlite" or "postgresql", pg_server.ENGINES), `fill(store)` having written it."""
    if request.param == "sqlite":
        database = tmp_path_factory.mktemp("list") / "calls.sqlite3"
    else:
        server = request.getfixturevalue("postgres")
        name = server.database()
        database = server.url(name)
    with Store(str(database)) as store:
        fill(store)
    conn = listing.connect(database)
    try:
        yield conn
    finally:
        conn.close()
        if request.param == "postgresql":
            server.drop(name)
