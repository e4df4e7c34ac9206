"""The store on real SQLite files: schema, upsert rules, local state, purge, search."""

from __future__ import annotations

import hashlib
import importlib.util
import sqlite3

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from migrated import migrated
from sqlalchemy import select

from callviewer.dbfile import HEAD, REVISIONS
from callviewer.record import RecordError, message, validate
from callviewer.store import SchemaTooNewError, Store, StoreError, now_micros
from callviewer.store.database import explain, open_engine
from callviewer.store.migrate import MIGRATIONS, backup_sqlite
from callviewer.store.schema import SORTED_MEASURES, calls, metadata
from callviewer.store.search import matching


def call(source_id="c1", **fields):
    return {"source": "agent-platform", "source_id": source_id, **fields}


def only(store: Store, include_deleted=True) -> dict:
    [record] = list(store.calls.export(include_deleted=include_deleted))
    return record


def search(store: Store, text: str) -> list[str]:
    with store.reading() as conn:
        return list(conn.execute(select(calls.c.source_id)
                                 .where(matching(conn.dialect.name, text))
                                 .order_by(calls.c.source_id)).scalars())


# --- schema -------------------------------------------------------------------


def test_new_database_has_the_head_schema_and_settings(tmp_path):
    with Store(str(tmp_path / "calls.sqlite3")) as store:
        assert store.calls.summary().schema == HEAD
        with store.reading() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def _migration(name: str):
    spec = importlib.util.spec_from_file_location(name, MIGRATIONS / "versions" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


NULLS_FIRST = _migration("0006_postgresql_list_order").INDEXES
PAIRED = _migration("0016_paired_list_indexes").PAIRED


def test_migrations_build_exactly_the_schema_the_code_uses(store_url):
    with Store(store_url) as store, store.engine.connect() as conn:
        postgresql = conn.dialect.name == "postgresql"
        # The full-text indexes (on SQLite with their shadow tables: the calls' words,
        # the names') are made by SQL, outside the metadata; so is the NULL order of
        # PostgreSQL's list indexes (checked below).
        context = MigrationContext.configure(conn, opts={
            "include_name": lambda name, kind, _parent: not (
                kind == "table" and name.startswith(("calls_fts", "call_names"))),
            "include_object": lambda _object, name, kind, _reflected, _compare_to: not (
                postgresql and kind == "index"
                and (name in NULLS_FIRST or name in PAIRED
                     or name.startswith("ix_call_stats_")))})
        differences = compare_metadata(context, metadata)
        if postgresql:
            made = dict(conn.exec_driver_sql("SELECT indexname, indexdef FROM pg_indexes "
                                             "WHERE tablename IN ('calls', 'call_stats')")
                        .all())
    assert differences == []
    if postgresql:
        for name, columns in NULLS_FIRST.items():
            keys = ", ".join(f"{column} NULLS FIRST" for column in columns)
            assert made[name].endswith(f"({keys}, deleted_at)")
        for name, (filtered, sort) in PAIRED.items():
            assert made[name].endswith(f"({filtered}, {sort} NULLS FIRST, "
                                       "started_at NULLS FIRST, id NULLS FIRST, deleted_at)")
        for measure in SORTED_MEASURES:
            assert made[f"ix_call_stats_{measure}"].endswith(
                f"({measure} NULLS FIRST, call_started_at NULLS FIRST, call_id)")


def test_known_revisions_match_the_migration_scripts():
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    scripts = ScriptDirectory.from_config(config)
    ordered = [script.revision for script in reversed(list(scripts.walk_revisions()))]
    assert tuple(ordered) == REVISIONS


def test_a_newer_schema_is_refused_and_the_file_left_untouched(tmp_path):
    path = tmp_path / "calls.sqlite3"
    Store(str(path)).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE alembic_version SET version_num = '9999'")
    db.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(SchemaTooNewError, match="newer version of Call Viewer"):
        Store(str(path))
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_a_newer_team_schema_is_refused_and_left_untouched(postgres_url):
    with Store(postgres_url) as store:
        store.calls.write_records([call("a", customer_name="Ann")])
        with store.writing() as conn:
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(SchemaTooNewError, match="newer version of Call Viewer"):
        Store(postgres_url)
    engine = open_engine(postgres_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "9999"
        assert conn.exec_driver_sql("SELECT customer_name FROM calls").scalar() == "Ann"
    engine.dispose()


def test_backup_is_a_complete_copy(tmp_path):
    path = tmp_path / "calls.sqlite3"
    with Store(str(path)) as store:
        store.calls.write_records([call("a", customer_name="Ann")])
    backup = backup_sqlite(path, "0001")
    with Store(str(backup)) as copy:
        assert only(copy)["customer_name"] == "Ann"


def test_a_file_that_is_not_a_database_gets_a_sentence(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("shopping list\n" * 200)
    with pytest.raises(StoreError, match="not a Call Viewer database"):
        Store(str(path))
    assert path.read_text() == "shopping list\n" * 200


def test_a_read_only_database_refuses_writes_with_a_sentence(tmp_path):
    path = tmp_path / "calls.sqlite3"
    Store(str(path)).close()
    with (Store(f"sqlite:///file:{path}?mode=ro&uri=true") as store,
          pytest.raises(StoreError, match="read-only")):
        store.calls.write_records([call("a")])


# --- the upsert ---------------------------------------------------------------


def test_the_same_record_twice_is_unchanged(store_url):
    with Store(store_url) as store:
        record = call(customer_name="Ann", transcript=[message("agent", "Hi")], score=7)
        assert store.calls.write_records([record]).new == 1
        counts = store.calls.write_records([dict(record)])
        assert (counts.new, counts.updated, counts.unchanged) == (0, 0, 1)


def test_newer_update_time_wins_and_older_is_ignored(store_url):
    with Store(store_url) as store:
        store.calls.write_records([call(summary="first", updated_at=2_000)])
        assert store.calls.write_records([call(summary="older", updated_at=1_000)]).unchanged == 1
        assert only(store)["summary"] == "first"
        assert store.calls.write_records([call(summary="newer", updated_at=3_000)]).updated == 1
        assert only(store)["summary"] == "newer"


def test_without_update_times_the_later_life_cycle_stage_wins(store_url):
    with Store(store_url) as store:
        store.calls.write_records([call(outcome="answered", progress=5)])
        store.calls.write_records([call(outcome="in_progress", progress=3)])
        assert only(store)["outcome"] == "answered"


def test_fields_a_version_lacks_are_kept(store_url):
    with Store(store_url) as store:
        detail = call(summary="s", transcript=[message("customer", "Hello")], updated_at=5)
        store.calls.write_records([detail])
        list_item = call(summary="s", updated_at=5)  # the list shape has no transcript
        assert store.calls.write_records([list_item]).unchanged == 1
        assert only(store)["transcript"][0]["text"] == "Hello"


def test_versions_within_one_batch_apply_in_order(store_url):
    with Store(store_url) as store:
        counts = store.calls.write_records([call(summary="v1", updated_at=1),
                                      call(summary="v2", updated_at=2),
                                      call(summary="v0", updated_at=0)])
        assert (counts.new, counts.updated, counts.unchanged) == (1, 1, 1)
        assert only(store)["summary"] == "v2"


def test_analysis_runs_are_appended_never_replaced_nor_doubled(store_url):
    run_a = {"analyzer": "Sentiment", "text": "Calm.", "created_at": 1_000_000}
    run_b = {"analyzer": "Sentiment", "text": "Upset.", "created_at": 2_000_000}
    with Store(store_url) as store:
        store.calls.write_records([call(analysis=[run_a])])
        store.calls.write_records([call(analysis=[run_b])])
        assert store.calls.write_records([call(analysis=[run_b, run_a])]).unchanged == 1
        texts = [run["text"] for run in only(store)["analysis"]]
        assert texts == ["Upset.", "Calm."]  # newest first


def test_unknown_fields_are_merged_not_dropped(store_url):
    with Store(store_url) as store:
        store.calls.write_records([call(extras={"call_id": "lk-1"})])
        store.calls.write_records([call(extras={"agent_version": 3})])
        assert only(store)["extras"] == {"call_id": "lk-1", "agent_version": 3}


def test_a_locally_set_done_flag_survives_imports(store_url):
    with Store(store_url) as store:
        store.calls.write_records([call(done=False, updated_at=1)])
        store.calls.set_done(store.calls.id_of("agent-platform", "c1"), True, "maria")
        store.calls.write_records([call(done=False, summary="changed", updated_at=2)])
        record = only(store)
        assert (record["done"], record["summary"]) == (True, "changed")


def test_the_source_done_flag_applies_until_set_locally(store_url):
    with Store(store_url) as store:
        store.calls.write_records([call(done=False, updated_at=1)])
        store.calls.write_records([call(done=True, updated_at=2)])
        assert only(store)["done"] is True


def test_notes_survive_every_import(store_url):
    with Store(store_url) as store:
        store.calls.write_records([call(summary="a", updated_at=1)])
        call_id = store.calls.id_of("agent-platform", "c1")
        store.notes.add(call_id, "maria", "Called back, sorted.")
        store.calls.write_records([call(summary="b", updated_at=2, is_purged=True)])
        assert [note["body"] for note in only(store)["notes"]] == ["Called back, sorted."]


def test_a_purge_removes_sensitive_fields_and_their_search_entries(store_url):
    with Store(store_url) as store:
        store.calls.write_records([call(customer_number="+15550123", from_number="+15550123",
                                  transcript=[message("customer", "my secret plan")],
                                  recording="https://x.example/a.mp3", has_recording=True,
                                  customer_name="Ann", updated_at=1)])
        assert search(store, "secret") == ["c1"]
        assert search(store, "5550123") == ["c1"]
        store.calls.write_records([call(is_purged=True, updated_at=2)])
        record = only(store)
        assert record["is_purged"] is True
        assert (record["transcript"], record["recording"], record["customer_number"],
                record["from_number"], record["has_recording"]) == ([], None, None, None, False)
        assert record["customer_name"] == "Ann"
        assert search(store, "secret") == []
        assert search(store, "5550123") == []
        assert search(store, "Ann") == ["c1"]


def test_a_purge_is_final(store_url):
    with Store(store_url) as store:
        store.calls.write_records([call(is_purged=True, progress=2)])
        store.calls.write_records([call(transcript=[message("agent", "back again")],
                                  customer_number="+1555", progress=3)])
        record = only(store)
        assert (record["transcript"], record["customer_number"]) == ([], None)


def test_deleted_calls_are_hidden_unless_asked_for(store_url):
    with Store(store_url) as store:
        store.calls.write_records([call("kept"), call("gone", deleted_at=1_700_000_000_000_000)])
        assert [r["source_id"] for r in store.calls.export()] == ["kept"]
        assert sorted(r["source_id"] for r in store.calls.export(include_deleted=True)) == [
            "gone", "kept"]


def test_a_nul_character_is_removed_with_a_warning_before_any_engine_sees_it(store_url):
    # PostgreSQL's text cannot hold U+0000, so no engine is given one: a stray one costs
    # the character, not the call, and the record says so for the import's report.
    record = validate(call(summary="a\x00b", customer_name="Bo\x00b"))
    assert (record["summary"], record["customer_name"]) == ("ab", "Bob")
    assert record["warnings"] == [
        "field 'customer_name': a NUL character (\\u0000) was removed",
        "field 'summary': a NUL character (\\u0000) was removed"]
    with Store(store_url) as store:
        store.calls.write_records([record])
        assert only(store)["summary"] == "ab"
    with pytest.raises(RecordError, match="NUL character") as error:
        validate(call(source_id="c\x001"))
    assert error.value.field == "source_id"


def test_a_null_flag_from_a_source_leaves_the_stored_one(store_url):
    with Store(store_url) as store:
        store.calls.write_records([validate(call(has_recording=True, done=True))])
        store.calls.write_records([validate(call(has_recording=None, done=None, is_purged=None,
                                           summary="later", updated_at=2))])
        record = only(store)
        assert (record["has_recording"], record["done"], record["summary"]) == (
            True, True, "later")


# --- notes and search ----------------------------------------------------------


def test_notes_feed_the_count_and_the_search_and_undo_restores_them(store_url):
    with Store(store_url) as store:
        store.calls.write_records([call(source_note="VIP customer")])
        call_id = store.calls.id_of("agent-platform", "c1")
        note_id = store.notes.add(call_id, "maria", "Wants a quote for the boiler")
        assert search(store, "boiler") == ["c1"]
        assert search(store, "VIP") == ["c1"]
        store.notes.update(note_id, "maria", "Wants a quote for the radiator")
        assert search(store, "boiler") == []
        deleted = store.notes.delete(note_id, "maria")
        assert search(store, "radiator") == []
        store.notes.restore(deleted)
        assert search(store, "radiator") == ["c1"]
        with store.reading() as conn:
            assert conn.exec_driver_sql("SELECT note_count FROM calls").scalar() == 1


def test_search_follows_updates_of_a_call(store_url):
    with Store(store_url) as store:
        store.calls.write_records([call(summary="leaking tap", updated_at=1)])
        store.notes.add(store.calls.id_of("agent-platform", "c1"), "maria", "plumber booked")
        store.calls.write_records([call(summary="burst pipe", updated_at=2)])
        assert search(store, "leaking") == []
        assert search(store, "burst") == ["c1"]
        assert search(store, "plumber") == ["c1"]  # the notes are re-indexed with the call


def test_search_words_match_as_typed_prefixes_and_ignore_case_and_accents(store_url):
    with Store(store_url) as store:
        store.calls.write_records([call("a", customer_name="José Müller"), call("b", summary="x")])
        assert search(store, "jose mull") == ["a"]


def test_each_person_edits_and_deletes_only_their_own_notes(store_url):
    with Store(store_url) as store:
        store.calls.write_records([call()])
        call_id = store.calls.id_of("agent-platform", "c1")
        note_id = store.notes.add(call_id, "maria", "Booked for Tuesday")
        with pytest.raises(StoreError, match="This note is maria's; only maria can change"):
            store.notes.update(note_id, "omar", "Booked for Wednesday")
        with pytest.raises(StoreError, match="only maria can change or delete it"):
            store.notes.delete(note_id, "omar")
        assert [(n.author, n.body) for n in store.notes.of(call_id)] == [
            ("maria", "Booked for Tuesday")]
        store.notes.update(note_id, "maria", "Booked for Wednesday")
        store.notes.delete(note_id, "maria")
        assert store.notes.of(call_id) == []
        with pytest.raises(StoreError, match="no longer there"):
            store.notes.update(note_id, "maria", "gone")


def test_undo_brings_a_note_back_after_its_id_was_given_to_a_new_one(store_url):
    with Store(store_url) as store:
        store.calls.write_records([call()])
        call_id = store.calls.id_of("agent-platform", "c1")
        deleted = store.notes.delete(store.notes.add(call_id, "maria", "first"), "maria")
        store.notes.add(call_id, "maria", "second")  # SQLite may reuse the deleted id
        store.notes.restore(deleted)
        assert sorted(n.body for n in store.notes.of(call_id)) == ["first", "second"]
        with store.reading() as conn:
            assert conn.exec_driver_sql("SELECT note_count FROM calls").scalar() == 2


def test_a_note_saved_again_with_its_key_is_one_note_with_the_latest_text(store_url):
    with Store(store_url) as store:
        store.calls.write_records([call()])
        call_id = store.calls.id_of("agent-platform", "c1")
        first = store.notes.add(call_id, "maria", "Call back", key="k1")
        assert store.notes.add(call_id, "maria", "Call back at 3", key="k1") == first
        store.notes.add(call_id, "maria", "Call back")  # no key: always a new note
        assert [n.body for n in store.notes.of(call_id)] == ["Call back at 3", "Call back"]
        assert search(store, "3") == ["c1"]  # the search index has the latest text


def test_a_note_whose_saves_answer_was_lost_is_saved_once_when_saved_again(
        postgres, postgres_url):
    from losing_proxy import LosingProxy

    with Store(postgres_url) as store:
        store.calls.write_records([call()])
        call_id = store.calls.id_of("agent-platform", "c1")
    proxy = LosingProxy(postgres.port)
    try:
        with Store(proxy.url(postgres_url)) as store:
            proxy.lose_commit_of(b"INSERT INTO notes")
            with pytest.raises(StoreError):
                store.notes.add(call_id, "maria", "Call back", key="k1")
            assert proxy.lost.is_set()
            assert [n.body for n in store.notes.of(call_id)] == ["Call back"]  # it landed
            store.notes.add(call_id, "maria", "Call back", key="k1")
            assert [n.body for n in store.notes.of(call_id)] == ["Call back"]
            assert store.calls.get(call_id).note_count == 1
    finally:
        proxy.close()


def test_the_done_flag_records_who_and_when_and_imports_keep_it(store_url):
    with Store(store_url) as store:
        store.calls.write_records([call(done=True, updated_at=1)])  # the source's: nobody's
        call_id = store.calls.id_of("agent-platform", "c1")
        assert (store.calls.get(call_id).done_by, store.calls.get(call_id).done_at) == (None, None)
        before = now_micros()
        store.calls.set_done(call_id, False, "omar")
        store.calls.set_done(call_id, True, "maria")
        done = store.calls.get(call_id)
        assert done.done is True and done.done_by == "maria"
        assert before <= done.done_at <= now_micros()
        store.calls.write_records([call(done=False, summary="later", updated_at=2)])
        assert store.calls.get(call_id).done_by == "maria" and store.calls.get(call_id).done
        store.calls.set_done(call_id, False, "omar")
        assert (store.calls.get(call_id).done_by, store.calls.get(call_id).done_at) == (None, None)


def test_upgrading_to_0007_keeps_the_calls_and_notes(tmp_path):
    path = tmp_path / "calls.sqlite3"
    with migrated(path, "0006") as conn:
        conn.exec_driver_sql("INSERT INTO calls (source, source_id, done, done_local, "
                             "imported_at) VALUES ('vapi', 'v1', 1, 1, 0)")
        conn.exec_driver_sql("INSERT INTO notes (call_id, author, body, created_at, updated_at) "
                             "VALUES (1, 'maria', 'kept', 0, 0)")
    with Store(str(path)) as store:
        found = store.calls.get(1)
    assert (found.done, found.done_by, found.notes[0].body) == (True, None, "kept")
    # And back: the columns go in place, not by a copy of calls whose drop would cascade.
    with migrated(path, "0006", command.downgrade) as conn:
        assert conn.exec_driver_sql("SELECT body FROM notes").scalars().all() == ["kept"]


def test_upgrading_to_0008_keeps_the_notes_and_going_back_too(tmp_path):
    path = tmp_path / "calls.sqlite3"
    with migrated(path, "0007") as conn:
        conn.exec_driver_sql("INSERT INTO calls (source, source_id, imported_at) "
                             "VALUES ('vapi', 'v1', 0)")
        conn.exec_driver_sql("INSERT INTO notes (call_id, author, body, created_at, updated_at) "
                             "VALUES (1, 'maria', 'kept', 0, 0)")
    with Store(str(path)) as store:
        assert [n.body for n in store.notes.of(1)] == ["kept"]
        store.notes.add(1, "maria", "keyed", key="k1")
    with migrated(path, "0007", command.downgrade) as conn:
        assert conn.exec_driver_sql("SELECT body FROM notes ORDER BY id").scalars().all() \
            == ["kept", "keyed"]


def test_0016_adds_an_index_per_filter_and_sort_paired_and_takes_them_back(store_url):
    def names(conn) -> set[str]:
        if conn.dialect.name == "postgresql":
            query = "SELECT indexname FROM pg_indexes WHERE tablename = 'calls'"
        else:
            query = "SELECT name FROM sqlite_master WHERE type = 'index'"
        return set(conn.exec_driver_sql(query).scalars())

    Store(store_url).close()
    with migrated(store_url, "0015", command.downgrade) as conn:
        assert not names(conn) & set(PAIRED)
    with migrated(store_url, "0016") as conn:
        assert set(PAIRED) <= names(conn)


def test_0018_indexes_short_prefixes_and_finds_what_it_found_before(tmp_path):
    path = tmp_path / "calls.sqlite3"
    with Store(str(path)) as store:
        store.calls.write_records([
            call("a", customer_name="Mia Rossi", summary="Refund for the router"),
            call("b", customer_name="José Müller", summary="Boiler leak, rang back"),
            call("c", customer_name="Sam Kim", transcript=[{"role": "agent", "text": "Hi"}])])
    typed = ["r", "ro", "mia r", "mu", "m", "sam k", "ki", "h", "z", "refund fo"]
    wanted = [["a", "b"], ["a"], ["a"], ["b"], ["a", "b"], ["c"], ["c"], ["c"], [], ["a"]]

    def declaration(conn) -> str:
        return conn.exec_driver_sql("SELECT sql FROM sqlite_master "
                                    "WHERE name = 'calls_fts'").scalar()

    def found(conn) -> list[list[str]]:
        return [list(conn.execute(select(calls.c.source_id).where(matching("sqlite", text))
                                  .order_by(calls.c.source_id)).scalars()) for text in typed]

    with migrated(path, "0017", command.downgrade) as conn:
        assert "prefix" not in declaration(conn)
        assert found(conn) == wanted
    with Store(str(path)) as store, store.reading() as conn:  # upgraded as the app does
        assert "prefix = '1 2'" in declaration(conn)
        # call_match.py reads the tokenizer as the last option (its ASCII test).
        assert declaration(conn).endswith("tokenize = 'unicode61 remove_diacritics 2')")
        assert found(conn) == wanted
    with Store(str(path)) as store:
        store.calls.write_records([call("d", customer_name="Rita Moss")])
        assert search(store, "r") == ["a", "b", "d"]  # a call written after, in the index
        with store.writing() as conn:  # FTS5 checks its prefixes' lists against the rows
            conn.exec_driver_sql("INSERT INTO calls_fts (calls_fts) VALUES ('integrity-check')")


@pytest.fixture
def typing_store(store_url):
    with Store(store_url) as store:
        store.calls.write_records([call("a", customer_name="José Müller", summary="Boiler")])
        yield store


# One store for every example: they only read it.
@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text())
def test_any_typed_text_is_a_valid_search(typing_store, typed):
    found = search(typing_store, typed)
    assert found in ([], ["a"])


# --- faults by code ---------------------------------------------------------------------


@pytest.mark.parametrize(("code", "words"), [
    (sqlite3.SQLITE_BUSY, "busy in another program"),
    (sqlite3.SQLITE_READONLY, "is read-only"),
    (sqlite3.SQLITE_FULL, "is full"),
])
def test_sqlite_faults_are_told_by_their_code_whatever_the_words(code, words):
    # SQLite's words in another language (or a future wording): the code decides.
    fault = sqlite3.OperationalError("le disque est plein ou la base est occupée")
    fault.sqlite_errorcode = code
    assert words in str(explain(fault, "calls.sqlite3"))
    plain = sqlite3.OperationalError("le disque est plein")
    assert "could not be used" in str(explain(plain, "calls.sqlite3"))  # no code: a bug


def test_a_postgresql_fault_is_told_by_its_sqlstate(postgres_url):
    # A lock not had in time: SQLSTATE 55P03, whatever the server's lc_messages say.
    import psycopg

    url = postgres_url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(url, autocommit=True) as holder, psycopg.connect(url) as waiter:
        holder.execute("CREATE TABLE held (id int)")
        holder.execute("BEGIN")
        holder.execute("LOCK TABLE held IN ACCESS EXCLUSIVE MODE")
        waiter.execute("SET lock_timeout = '100ms'")
        with pytest.raises(psycopg.OperationalError) as error:
            waiter.execute("LOCK TABLE held IN ACCESS EXCLUSIVE MODE")
        holder.execute("ROLLBACK")
    assert error.value.sqlstate == "55P03"
    assert "busy in another program" in str(explain(error.value, "the team database"))
