"""The recordings archive's records: each call's recording state, and the archived copies.

Every call has exactly one recording state, stored in ``calls.recording_state``
(indexed like the list's other columns) and kept in step by every write:

    none          the call has no recording
    at_source     the source has one that is not downloaded (yet, or no more: evicted)
    archived      a local copy plays: in the archive, or the local file an import named
                  (in or under the imported file's folder: sync/base.py resolve_recording)
    link_expired  the source's link was refused even after a refresh; a sync tries again
    gone          the source no longer has it, and it was never downloaded
    purged        the source purged the call; any archived copy was deleted with it

The source's reference (a signed URL, or a file in a watched folder) is kept in
the ``recordings`` table, never exported; ``calls.recording`` is what plays:
the source's link until the recording is archived, the archived file after
(in a team database, its path in the archive: store/shared_archive.py).

A reference that is not a recording (a relative path from an API, ``javascript:``,
``data:``, ``ftp:``, a file elsewhere: recording_refs.py) is never stored as one:
the call is kept with state none, no recording and has_recording false, and the
reason in its extras (``recording_refused``) and, from a sync, in its recordings
row's error.
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson
from sqlalchemy import BigInteger, Connection, and_, bindparam, func, insert, select, update

from callviewer.jsontext import dumps, loads
from callviewer.recording_refs import refusal
from callviewer.recording_state import (
    ARCHIVED,
    AT_SOURCE,
    GONE,
    LINK_EXPIRED,
    NONE,
    PURGED,
    STATES,
)
from callviewer.store import shared_archive
from callviewer.store.schema import calls, recordings

# States a sync tries to download.
WANTED = (AT_SOURCE, LINK_EXPIRED)
ARCHIVE_FOLDER = "recordings"
# The key of a call's extras that says why the source's recording reference is not one.
REFUSED_KEY = "recording_refused"


def next_state(row: dict, base: dict | None) -> str:
    """The recording state of a call row about to be written over `base` (None: a new call).

    An archived copy is kept whatever the source says later (the row's recording
    is set back to it); only a purge ends it.
    """
    if row["is_purged"]:
        return PURGED
    before = base["recording_state"] if base is not None else NONE
    if before == ARCHIVED:
        row["recording"], row["has_recording"] = base["recording"], True
        return ARCHIVED
    reference = row["recording"]
    problem = refusal(reference) if reference else None
    _keep_refusal(row, problem)
    if problem is not None:
        # Not a recording (recording_refs.py): nothing to play or fetch, and the list does
        # not offer one; the reason stays in the call's extras.
        row["recording"], row["has_recording"] = None, False
        return NONE
    if not reference:
        return GONE if before in (AT_SOURCE, LINK_EXPIRED, GONE) else NONE
    if base is not None and before in (LINK_EXPIRED, GONE) and reference == base["recording"]:
        return before
    # What is left is an http(s) or local file: URL (fetched into the archive) or an
    # absolute path an import vouched for: a local file that plays as it is.
    return AT_SOURCE if "://" in reference else ARCHIVED


def refusal_of(row: dict) -> str | None:
    """Why a call row's recording reference was not a recording, if it was (see next_state)."""
    extras = loads(row["extras"]) if row.get("extras") else None
    found = extras.get(REFUSED_KEY) if isinstance(extras, dict) else None
    return found if isinstance(found, str) else None


def _keep_refusal(row: dict, problem: str | None) -> None:
    """Note in the row's extras why its reference is not a recording; a later reference
    that is one clears it. A row with no reference keeps what was noted."""
    # Cheap first: most rows never had a refusal, and their extras need not be read.
    if problem is None and (row["recording"] is None
                            or f'"{REFUSED_KEY}"' not in (row.get("extras") or "")):
        return
    extras = loads(row["extras"]) if row.get("extras") else {}
    if not isinstance(extras, dict):
        return
    if problem is None:
        extras.pop(REFUSED_KEY, None)
    else:
        extras[REFUSED_KEY] = f"Not a recording: {problem}."
    # Sorted keys, as store/calls.py writes them: an unchanged call stays unchanged.
    row["extras"] = dumps(extras, option=orjson.OPT_SORT_KEYS).decode() if extras else None


def archive_dir(database: Path | None, data_dir: Path, default_database: Path) -> Path:
    """Where a store's recordings are archived.

    The default database (and an in-memory one) archives into the data folder's
    ``recordings/``; any other SQLite file into ``<file name>.recordings/`` beside
    it, so that two databases never share an archive. (A team database's archive
    is in the database: store/shared_archive.py.)
    """
    if database is None or os.path.abspath(database) == os.path.abspath(default_database):
        return data_dir / ARCHIVE_FOLDER
    return database.with_name(f"{database.name}.{ARCHIVE_FOLDER}")


def note_sources(conn: Connection, references: dict[int, str | None],
                 connection_id: int) -> None:
    """Remember where a connection's source serves each call's recording (None: nowhere)."""
    if not references:
        return
    ids = list(references)
    existing = set(conn.execute(select(recordings.c.call_id)
                                .where(recordings.c.call_id.in_(ids))).scalars())
    # A reference that is not a recording is never kept as one: the reason is its error.
    problems = {call_id: refusal(reference) if reference else None
                for call_id, reference in references.items()}
    references = {call_id: None if problems[call_id] else reference
                  for call_id, reference in references.items()}
    rows = [{"call_id": call_id, "connection_id": connection_id, "source_ref": reference,
             "source_gone": not reference and not problems[call_id]}
            for call_id, reference in references.items()]
    fresh = [row for row in rows if row["call_id"] not in existing]
    known = [{"key": row["call_id"], "via": connection_id, "ref": row["source_ref"],
              "gone": row["source_gone"]} for row in rows if row["call_id"] in existing]
    if fresh:
        conn.execute(insert(recordings), fresh)
    if known:
        conn.execute(update(recordings).where(recordings.c.call_id == bindparam("key")).values(
            connection_id=bindparam("via"), source_ref=bindparam("ref"),
            source_gone=bindparam("gone")), known)
    refused = [{"key": call_id, "why": f"Not a recording: {problem}."}
               for call_id, problem in problems.items() if problem]
    if refused:
        conn.execute(update(recordings).where(recordings.c.call_id == bindparam("key"))
                     .values(error=bindparam("why")), refused)


def let_go(conn: Connection, call_ids: list[int]) -> None:
    """Calls that were purged: their archived files become stale (deleted after the commit);
    a team database's archived bytes go with the purge."""
    shared_archive.drop(conn, call_ids)
    for start in range(0, len(call_ids), 400):
        chunk = call_ids[start:start + 400]
        conn.execute(update(recordings).where(recordings.c.call_id.in_(chunk),
                                              recordings.c.path.is_not(None)).values(
            stale_path=recordings.c.path, path=None, size=None, sha256=None))
        conn.execute(update(recordings).where(recordings.c.call_id.in_(chunk))
                     .values(source_ref=None))


def stale_files(conn: Connection) -> list[tuple[int, str]]:
    """(call id, path) of archived files waiting to be deleted."""
    return list(conn.execute(select(recordings.c.call_id, recordings.c.stale_path)
                             .where(recordings.c.stale_path.is_not(None))).tuples())


def forget_stale(conn: Connection, call_ids: list[int]) -> None:
    """The stale files of these calls are deleted."""
    conn.execute(update(recordings).where(recordings.c.call_id.in_(call_ids))
                 .values(stale_path=None))


def wanted(conn: Connection, connection_id: int, call_ids: list[int] | None = None) -> list[dict]:
    """The recordings a connection should download: at the source or with an expired link."""
    query = (select(calls.c.id, calls.c.source, calls.c.source_id, calls.c.recording_state,
                    recordings.c.source_ref, recordings.c.attempts)
             .join(recordings, recordings.c.call_id == calls.c.id)
             .where(recordings.c.connection_id == connection_id,
                    calls.c.recording_state.in_(WANTED), recordings.c.evicted_at.is_(None),
                    recordings.c.source_ref.is_not(None))
             .order_by(calls.c.started_at.desc(), calls.c.id.desc()))
    if call_ids is not None:
        query = query.where(calls.c.id.in_(call_ids))
    return [dict(row) for row in conn.execute(query).mappings()]


def still_wanted(conn: Connection, call_id: int) -> bool:
    """True while a call wants its recording downloaded (not purged, not archived yet)."""
    state = conn.execute(select(calls.c.recording_state).where(calls.c.id == call_id)).scalar()
    return state in WANTED


def archived(conn: Connection, call_id: int, path: str, absolute: str, size: int,
             digest: str, now: int) -> bool:
    """Record a downloaded recording; False (nothing changed) if the call no longer wants it."""
    if not still_wanted(conn, call_id):
        return False
    conn.execute(update(calls).where(calls.c.id == call_id).values(
        recording_state=ARCHIVED, recording=absolute, has_recording=True))
    conn.execute(update(recordings).where(recordings.c.call_id == call_id).values(
        path=path, size=size, sha256=digest, archived_at=now, error=None, evicted_at=None))
    return True


def set_state(conn: Connection, call_id: int, state: str, error: str | None) -> None:
    """Mark a recording that could not be downloaded (link expired, gone) and why."""
    conn.execute(update(calls).where(calls.c.id == call_id,
                                     calls.c.recording_state.in_(WANTED))
                 .values(recording_state=state))
    failed(conn, call_id, error)


def failed(conn: Connection, call_id: int, error: str | None) -> None:
    """Note why a download failed; the state stays (a later sync tries again)."""
    conn.execute(update(recordings).where(recordings.c.call_id == call_id).values(
        error=error, attempts=recordings.c.attempts + 1))


def evicted(conn: Connection, call_id: int, reference: str, now: int) -> str | None:
    """An archived copy given up for the size cap: the call plays from the source again.

    Returns the file to delete after the commit, or None if it is no longer archived.
    """
    path = conn.execute(select(recordings.c.path).where(
        recordings.c.call_id == call_id, recordings.c.source_gone.is_(False))).scalar()
    state = conn.execute(select(calls.c.recording_state).where(calls.c.id == call_id)).scalar()
    if path is None or state != ARCHIVED:
        return None
    conn.execute(update(calls).where(calls.c.id == call_id).values(
        recording_state=AT_SOURCE, recording=reference))
    conn.execute(update(recordings).where(recordings.c.call_id == call_id).values(
        path=None, size=None, sha256=None, stale_path=path, evicted_at=now,
        source_ref=reference))
    shared_archive.drop(conn, [call_id])
    return path


def played(conn: Connection, call_id: int, now: int) -> None:
    """Note that a call's recording was played (the size cap evicts the least recent)."""
    done = conn.execute(update(recordings).where(recordings.c.call_id == call_id)
                        .values(last_played_at=now)).rowcount
    if not done:
        conn.execute(insert(recordings).values(call_id=call_id, last_played_at=now))


def state_counts(conn: Connection) -> dict[str, int]:
    """How many calls are in each recording state (every state present, 0 when none)."""
    found = dict(conn.execute(select(calls.c.recording_state, func.count())
                              .group_by(calls.c.recording_state)).all())
    return {state: found.get(state, 0) for state in STATES}


def archive_size(conn: Connection) -> tuple[int, int]:
    """(files, bytes) in the archive."""
    # Cast: PostgreSQL sums bigints as numeric (a Decimal in Python).
    total = func.coalesce(func.sum(recordings.c.size), 0).cast(BigInteger)
    count, size = conn.execute(select(func.count(), total)
                               .where(recordings.c.path.is_not(None))).one()
    return count, size


def eviction_plan(conn: Connection, cap: int | None) -> list[dict]:
    """The archived recordings a size cap of `cap` bytes would remove, in eviction order.

    Least recently played first (never played: oldest archived first), and only
    those whose source still has them: never the only copy.
    """
    if cap is None:
        return []
    _count, total = archive_size(conn)
    if total <= cap:
        return []
    used = func.coalesce(recordings.c.last_played_at, recordings.c.archived_at)
    query = (select(recordings.c.call_id, recordings.c.connection_id, recordings.c.path,
                    recordings.c.size, recordings.c.last_played_at, calls.c.source,
                    calls.c.source_id)
             .join(calls, calls.c.id == recordings.c.call_id)
             .where(and_(recordings.c.path.is_not(None), recordings.c.source_gone.is_(False),
                         recordings.c.source_ref.is_not(None),
                         recordings.c.connection_id.is_not(None),
                         calls.c.recording_state == ARCHIVED))
             .order_by(used, recordings.c.call_id))
    plan = []
    for row in conn.execute(query).mappings():
        if total <= cap:
            break
        plan.append(dict(row))
        total -= row["size"] or 0
    return plan
