"""On a team database a member's import writes the new calls' rows of call_stats itself
(migration 0015: no trigger makes them now), with the member's own rights."""

from __future__ import annotations

from test_team_identity import add_user, member_url, team  # noqa: F401 (a fixture)

from callviewer.store import Store


def test_a_members_new_calls_get_their_statistics_rows(team):  # noqa: F811
    postgres, database, admin_url = team
    password = add_user(admin_url, "ann")
    with Store(member_url(postgres, database, "ann", password)) as ann:
        counts = ann.calls.write_records([
            {"source": "vapi", "source_id": f"m{i}", "started_at": 1_700_000_000_000_000 + i}
            for i in range(3)])
        assert counts.new == 3
        ids = [ann.calls.id_of("vapi", f"m{i}") for i in range(3)]
        with ann.reading() as conn:
            rows = dict(conn.exec_driver_sql(
                "SELECT call_id, call_started_at FROM call_stats WHERE computed_at IS NULL").all())
        assert {i: rows.get(i) for i in ids} == {
            i: 1_700_000_000_000_000 + n for n, i in enumerate(ids)}
