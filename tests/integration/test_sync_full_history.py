"""A source's erasure of a call of any age reaches the store: on `sync run --full`, and on
the weekly walk of the whole history, for the agent platform's calls API (a purge it lists,
a deletion, and a call gone from its list altogether)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connectors import exported, sync, user_env
from fake_calls_api import FAST, TOKEN, FakeCallsApi

SETTINGS = [arg for key, value in {**FAST, "page_size": 20}.items()
            for arg in ("--set", f"{key}={value}")]


def added(tmp_path, api: FakeCallsApi, *settings: str):
    db, env = tmp_path / "calls.sqlite3", user_env(tmp_path)
    done = sync("add", "platform", "--url", api.url, "--token-stdin", *SETTINGS, *settings,
                db=db, env=env, stdin=TOKEN + "\n")
    assert done.returncode == 0, done.stderr
    return db, env


def test_a_year_old_purge_deletion_and_erasure_arrive_with_sync_run_full(tmp_path):
    with FakeCallsApi() as api:
        ids = api.seed(60, start=datetime.now(UTC) - timedelta(days=300), spacing_s=86_400,
                       with_audio=0)
        db, env = added(tmp_path, api)
        assert sync("run", db=db, env=env).returncode == 0
        oldest, older, erased = ids[-1], ids[-2], ids[-3]  # about a year old
        api.purge(oldest)
        api.delete(older)
        del api.calls[erased]
        plain = sync("run", db=db, env=env)  # the last pass less the overlap: cannot see them
        assert plain.returncode == 0
        before = exported(db, env)
        assert not before[oldest]["is_purged"] and before[older]["deleted_at"] is None
        full = sync("run", "--full", db=db, env=env)
        assert full.returncode == 0, full.stderr
        after = exported(db, env)
        assert after[oldest]["is_purged"] and after[oldest]["transcript"] == []
        assert after[oldest]["customer_number"] is None
        assert after[older]["deleted_at"] is not None
        assert after[erased]["deleted_at"] is not None  # kept, marked deleted at the source
        assert sum(1 for r in after.values() if r["deleted_at"] is None) == 58


def test_the_weekly_walk_of_the_whole_history_runs_by_itself(tmp_path):
    with FakeCallsApi() as api:
        ids = api.seed(30, start=datetime.now(UTC) - timedelta(days=200), spacing_s=86_400,
                       with_audio=0)
        # A walk of the whole history at every sync (the setting is in days).
        db, env = added(tmp_path, api, "--set", "full_every_days=0")
        assert sync("run", db=db, env=env).returncode == 0
        api.purge(ids[-1])
        assert sync("run", db=db, env=env).returncode == 0
        assert exported(db, env)[ids[-1]]["is_purged"]
        lists = [query for _kind, _path, query, _headers in api.requests_of("list")]
        assert lists[-1].get("include_deleted") == "true" and "from" not in lists[-1]

    with FakeCallsApi() as api:  # the default, a week: an ordinary sync does not walk it all
        ids = api.seed(30, start=datetime.now(UTC) - timedelta(days=200), spacing_s=86_400,
                       with_audio=0)
        db, env = added(tmp_path / "default", api)
        assert sync("run", db=db, env=env).returncode == 0
        api.purge(ids[-1])
        assert sync("run", db=db, env=env).returncode == 0
        assert not exported(db, env)[ids[-1]]["is_purged"]
