"""Twilio's REST API: Call and Recording resources, parsed and imported into a real store.

The fixtures in tests/fixtures/twilio_api/ are written from Twilio's API reference
(Call resource, Recording resource, and the list pages around them); every value
is invented.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
import records
from records import exported

from callviewer.record import RecordError
from callviewer.store import Store
from callviewer.sync import formats, twilio, twilio_api
from callviewer.sync.base import Origin
from callviewer.sync.importer import import_paths

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "twilio_api"
NOWHERE = Origin(folder=None)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

ACCOUNT = "AC3f2a9c51d08e4b7a96e1c0d2b4a8f671"
CALL_IN = "CA5d7e9b1c3a2f4e6d8b0a1c2e3f4a5b6c"  # inbound, completed (and in-progress before)
CALL_VM = "CA0e4c6a8b2d1f3e5a7c9b8d6f4e2a1c3b"  # outbound-api, an answering machine took it
CALL_LEG = "CA9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d"  # outbound-dial leg of CALL_IN, no answer
CALL_BUSY = "CA1b3d5f7a9c2e4a6b8d0f1e3c5a7b9d2e"  # trunking-originating, busy
CALL_CANCEL = "CA7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c"  # trunking-terminating, canceled
CALL_RING = "CA2c4e6a8b0d1f3a5c7e9b2d4f6a8c0e1b"  # inbound from a Client, still ringing
REC_IN = "RE4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b"  # CALL_IN's, completed, with media_url
REC_VM = "RE6b8d0f2a4c6e8b0d2f4a6c8e0b2d4f6a"  # CALL_VM's, completed, uri only
REC_DEL = "RE8d0f2b4a6c8e0d2f4b6a8c0e2d4f6b8a"  # CALL_BUSY's, deleted
REC_PROC = "RE0f2d4b6a8c0e2f4d6b8a0c2e4f6d8b0a"  # CALL_RING's, processing


def load(name: str) -> dict:
    return orjson.loads((FIXTURES / name).read_bytes())


def page_item(name: str, key: str, sid: str) -> dict:
    return next(item for item in load(name)[key] if item["sid"] == sid)


def us(year, month, day, hour, minute, second) -> int:
    """Epoch microseconds of a UTC time, computed independently of the parser."""
    moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1)


def rfc3339(year, month, day, hour, minute, second) -> str:
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}Z"


def recording_url(sid: str) -> str:
    return f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{sid}.mp3"


# --- detection ------------------------------------------------------------------------


def test_a_call_and_a_recording_are_recognised_by_their_sids_and_account_keys():
    call = load("call_inbound_completed.json")
    recording = load("recording_inbound.json")
    assert twilio_api.matches(call) == ("sid", "account_sid", "api_version", "subresource_uris")
    assert twilio_api.matches(recording) == ("account_sid", "call_sid", "sid")
    for value in (call, recording, *load("calls_page.json")["calls"],
                  *load("recordings_page.json")["recordings"]):
        assert formats.detect(value).module is twilio_api


def test_records_of_the_seed_call_module_are_never_read_as_the_rest_api():
    listed = {"id": "9a8b7c6d-0000-4111-8222-333344445555",
              "from_to_number": "+15550100123 -> +15550100200",
              "call_sid": CALL_IN, "has_recording": True, "created_at": "2026-11-03T14:05:12Z"}
    details = {**listed, "transcription": "AI: Hello.\nUser: Hi.", "analysis_groups": []}
    for record in (listed, details, {"id": "x", "call_sid": CALL_IN},
                   {"id": "y", "from_to_number": "+15550100123 -> +15550100200"}):
        assert twilio_api.matches(record) == ()
        assert formats.detect(record).module is twilio


@pytest.mark.parametrize("obj", [
    {"sid": CALL_IN},  # a sid alone says too little
    {"sid": CALL_IN[2:], "account_sid": ACCOUNT},  # no CA prefix
    {"sid": "CF2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a", "account_sid": ACCOUNT},  # a Conference
    {"sid": "TR1a3c5e7b9d1f3a5c7e9b1d3f5a7c9e1b", "account_sid": ACCOUNT,
     "recording_sid": REC_IN},  # a Transcription
    {"sid": "NO5e7a9c1b3d5f7e9a1c3b5d7f9e1a3c5b", "call_sid": CALL_IN},  # a Notification
    {"sid": 12, "account_sid": ACCOUNT},
    {"account_sid": ACCOUNT, "api_version": "2010-04-01"},
])
def test_other_objects_are_not_twilio_calls_or_recordings(obj):
    assert twilio_api.matches(obj) == ()


def test_the_rest_api_is_asked_before_the_call_module():
    assert formats.FORMATS.index(twilio_api) < formats.FORMATS.index(twilio)
    assert formats.by_name("twilio-api") is twilio_api
    assert twilio_api.ID_KEYS == ("sid",)


# --- the Call resource ----------------------------------------------------------------


def test_an_inbound_completed_call():
    record = twilio_api.parse(load("call_inbound_completed.json"), NOWHERE)
    assert {key: value for key, value in record.items() if key != "extras"} == {
        "source": "twilio-api", "source_id": CALL_IN,
        "created_at": us(2026, 11, 3, 14, 5, 10), "updated_at": us(2026, 11, 3, 14, 8, 20),
        "started_at": us(2026, 11, 3, 14, 5, 12), "ended_at": us(2026, 11, 3, 14, 8, 19),
        "direction": "inbound", "from_number": "+15550100123", "to_number": "+15550100200",
        "customer_number": "+15550100123", "customer_name": "MARTA REYES",
        "duration_ms": 187_000, "outcome": "answered", "end_reason": "completed",
        "progress": 3,
    }
    extras = record["extras"]
    assert extras["account_sid"] == ACCOUNT
    assert extras["from_formatted"] == "(555) 010-0123"
    assert extras["price"] == "-0.01700" and extras["price_unit"] == "USD"
    assert extras["forwarded_from"] == "+15550100777"
    assert extras["subresource_uris"]["recordings"] == (
        f"/2010-04-01/Accounts/{ACCOUNT}/Calls/{CALL_IN}/Recordings.json")
    for mapped in ("sid", "from", "to", "status", "direction", "duration", "start_time",
                   "end_time", "date_created", "date_updated", "caller_name"):
        assert mapped not in extras
    assert "recording" not in record and "has_recording" not in record


def test_the_calls_of_a_list_page():
    calls = {item["sid"]: twilio_api.parse(item, NOWHERE)
             for item in load("calls_page.json")["calls"]}
    voicemail = calls[CALL_VM]
    assert (voicemail["direction"], voicemail["from_number"], voicemail["to_number"],
            voicemail["customer_number"]) == ("outbound", "+15550100200", "+15550100456",
                                              "+15550100456")
    assert (voicemail["outcome"], voicemail["end_reason"], voicemail["duration_ms"]) == (
        "voicemail", "completed", 62_000)
    assert voicemail["extras"]["answered_by"] == "machine_end_beep"
    assert voicemail["extras"]["direction"] == "outbound-api"
    assert voicemail["extras"]["queue_time"] == "1000"

    leg = calls[CALL_LEG]
    assert (leg["direction"], leg["customer_number"], leg["outcome"], leg["end_reason"],
            leg["duration_ms"]) == ("outbound", "+15550100888", "missed", "no-answer", 0)
    assert leg["extras"]["parent_call_sid"] == CALL_IN
    assert leg["extras"]["direction"] == "outbound-dial"

    busy = calls[CALL_BUSY]
    assert (busy["direction"], busy["from_number"], busy["to_number"],
            busy["customer_number"]) == ("inbound", "+15550100321",
                                         "sip:front-desk@pbx.example.com", "+15550100321")
    assert (busy["outcome"], busy["end_reason"], busy["progress"]) == ("busy", "busy", 3)
    assert "customer_name" not in busy  # an empty caller_name names no one

    canceled = calls[CALL_CANCEL]
    assert (canceled["direction"], canceled["customer_number"], canceled["outcome"]) == (
        "outbound", "+15550100654", "canceled")
    assert canceled["started_at"] is None and canceled["ended_at"] is None

    ringing = calls[CALL_RING]
    assert (ringing["from_number"], ringing["customer_number"]) == (
        "client:kiosk-lobby", "client:kiosk-lobby")
    assert (ringing["outcome"], ringing["end_reason"], ringing["progress"]) == (
        "in_progress", None, 1)
    assert ringing["duration_ms"] is None and ringing["ended_at"] is None
    assert ringing["started_at"] == us(2026, 11, 6, 8, 15, 0)


@pytest.mark.parametrize(("status", "outcome", "end_reason", "progress"), [
    ("queued", "in_progress", None, 0),
    ("ringing", "in_progress", None, 1),
    ("in-progress", "in_progress", None, 2),
    ("completed", "answered", "completed", 3),
    ("busy", "busy", "busy", 3),
    ("failed", "failed", "failed", 3),
    ("no-answer", "missed", "no-answer", 3),
    ("canceled", "canceled", "canceled", 3),
])
def test_each_status_gives_its_outcome_end_reason_and_stage(status, outcome, end_reason,
                                                             progress):
    record = twilio_api.parse(load("call_inbound_completed.json") | {"status": status}, NOWHERE)
    assert (record["outcome"], record["end_reason"], record["progress"]) == (
        outcome, end_reason, progress)


def test_an_unknown_status_is_kept_as_the_reason_with_an_unknown_outcome():
    record = twilio_api.parse(load("call_inbound_completed.json") | {"status": "transferred"},
                              NOWHERE)
    assert (record["outcome"], record["end_reason"]) == ("unknown", "transferred")
    assert "progress" not in record


def test_a_null_status_says_nothing_of_the_outcome():
    record = twilio_api.parse(load("call_inbound_completed.json") | {"status": None}, NOWHERE)
    assert not {"outcome", "end_reason", "progress"} & record.keys()
    assert "status" not in record["extras"]


@pytest.mark.parametrize(("status", "answered_by", "outcome"), [
    ("completed", "machine_start", "voicemail"),
    ("completed", "machine_end_silence", "voicemail"),
    ("completed", "machine_end_other", "voicemail"),
    ("completed", "machine", "voicemail"),  # the older single value
    ("completed", "human", "answered"),
    ("completed", "fax", "answered"),
    ("completed", "unknown", "answered"),
    ("completed", None, "answered"),
    ("no-answer", "machine_start", "missed"),
    ("failed", "machine_end_beep", "failed"),
])
def test_an_answering_machine_makes_a_completed_call_a_voicemail(status, answered_by, outcome):
    obj = load("call_inbound_completed.json") | {"status": status, "answered_by": answered_by}
    assert twilio_api.parse(obj, NOWHERE)["outcome"] == outcome


@pytest.mark.parametrize(("direction", "canonical", "customer"), [
    ("inbound", "inbound", "+15550100123"),
    ("trunking-originating", "inbound", "+15550100123"),
    ("outbound-api", "outbound", "+15550100200"),
    ("outbound-dial", "outbound", "+15550100200"),
    ("trunking-terminating", "outbound", "+15550100200"),
])
def test_directions_and_the_customer_is_the_party_outside(direction, canonical, customer):
    obj = load("call_inbound_completed.json") | {"direction": direction}
    record = twilio_api.parse(obj, NOWHERE)
    assert (record["direction"], record["customer_number"]) == (canonical, customer)
    assert (record["from_number"], record["to_number"]) == ("+15550100123", "+15550100200")
    assert ("direction" in record["extras"]) is (direction != "inbound")


def test_an_unknown_direction_says_nothing_of_the_customer():
    record = twilio_api.parse(load("call_inbound_completed.json") | {"direction": "sideways"},
                              NOWHERE)
    assert record["direction"] == "unknown"
    assert "customer_number" not in record and "customer_name" not in record
    assert record["extras"]["direction"] == "sideways"
    assert record["extras"]["caller_name"] == "MARTA REYES"


def test_the_caller_name_of_an_outbound_call_is_not_the_customer():
    obj = load("call_inbound_completed.json") | {"direction": "outbound-api",
                                                  "caller_name": "ACE PLUMBING"}
    record = twilio_api.parse(obj, NOWHERE)
    assert "customer_name" not in record
    assert record["extras"]["caller_name"] == "ACE PLUMBING"


@pytest.mark.parametrize(("duration", "millis"), [
    ("187", 187_000), ("0", 0), (None, None), ("", None), (42, 42_000), (42.0, 42_000),
])
def test_the_duration_is_a_count_of_seconds(duration, millis):
    obj = load("call_inbound_completed.json") | {"duration": duration}
    assert twilio_api.parse(obj, NOWHERE)["duration_ms"] == millis


@pytest.mark.parametrize(("changes", "field"), [
    ({"sid": None}, "sid"),
    ({"sid": "  "}, "sid"),
    ({"duration": "3 min"}, "duration"),
    ({"duration": "-1"}, "duration"),
    ({"duration": True}, "duration"),
    ({"start_time": "yesterday at noon"}, "start_time"),
    ({"date_updated": 1571418120}, "date_updated"),
    ({"from": 15550100123}, "from"),
    ({"status": ["completed"]}, "status"),
])
def test_a_bad_call_names_the_field(changes, field):
    with pytest.raises(RecordError) as error:
        twilio_api.parse(load("call_inbound_completed.json") | changes, NOWHERE)
    assert error.value.field == field


def test_a_call_without_a_sid_is_rejected_when_the_format_is_forced():
    obj = load("call_inbound_completed.json")
    del obj["sid"]
    with pytest.raises(RecordError) as error:
        twilio_api.parse(obj, NOWHERE)
    assert error.value.field == "sid"


def test_a_call_with_its_mp3_beside_the_import_has_that_recording(tmp_path):
    (tmp_path / f"{CALL_IN}.mp3").write_bytes(b"ID3fake")
    record = twilio_api.parse(load("call_inbound_completed.json"), Origin(folder=tmp_path))
    assert record["recording"] == str(tmp_path / f"{CALL_IN}.mp3")
    assert record["has_recording"] is True


def test_parsing_leaves_the_resource_untouched():
    obj = load("call_inbound_completed.json")
    before = copy.deepcopy(obj)
    twilio_api.parse(obj, NOWHERE)
    assert obj == before


# --- the Recording resource -----------------------------------------------------------


def test_a_completed_recording_attaches_its_media_url_to_its_call():
    recording = load("recording_inbound.json")
    record = twilio_api.parse(recording, NOWHERE)
    assert record == {
        "source": "twilio-api", "source_id": CALL_IN, "attach_only": True,
        "recording": f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{REC_IN}",
        "has_recording": True,
        "extras": {"recording_resource": {key: value for key, value in recording.items()
                                          if key != "call_sid"}},
    }
    # The recording's own times are not the call's: nothing orders the call by them.
    for field in ("started_at", "created_at", "updated_at", "duration_ms", "progress"):
        assert field not in record


def test_without_a_media_url_the_recording_is_its_uri_as_mp3():
    record = twilio_api.parse(page_item("recordings_page.json", "recordings", REC_VM), NOWHERE)
    assert (record["source_id"], record["recording"], record["has_recording"]) == (
        CALL_VM, recording_url(REC_VM), True)
    assert record["extras"]["recording_resource"]["source"] == "OutboundAPI"


def test_without_a_uri_the_recording_url_is_built_from_the_account_and_sid():
    recording = load("recording_inbound.json")
    del recording["media_url"], recording["uri"]
    assert twilio_api.parse(recording, NOWHERE)["recording"] == recording_url(REC_IN)
    del recording["account_sid"]
    with pytest.raises(RecordError) as error:
        twilio_api.parse(recording, NOWHERE)
    assert error.value.field == "uri"


@pytest.mark.parametrize("status", ["deleted", "absent", "failed"])
def test_a_recording_that_is_gone_says_the_call_has_none(status):
    recording = page_item("recordings_page.json", "recordings", REC_DEL) | {"status": status}
    record = twilio_api.parse(recording, NOWHERE)
    assert (record["source_id"], record["attach_only"]) == (CALL_BUSY, True)
    assert (record["has_recording"], record["recording"]) == (False, None)


@pytest.mark.parametrize("status", ["processing", "in-progress", "paused", "stopped", None])
def test_a_recording_not_ready_yet_says_nothing_of_the_audio(status):
    recording = page_item("recordings_page.json", "recordings", REC_PROC) | {"status": status}
    record = twilio_api.parse(recording, NOWHERE)
    assert (record["source_id"], record["attach_only"]) == (CALL_RING, True)
    assert "has_recording" not in record and "recording" not in record
    assert record["extras"]["recording_resource"]["duration"] == recording["duration"]


@pytest.mark.parametrize("name", [REC_DEL, CALL_BUSY])
def test_a_recording_beside_the_import_wins_whatever_the_status(tmp_path, name):
    (tmp_path / f"{name}.mp3").write_bytes(b"ID3fake")
    recording = page_item("recordings_page.json", "recordings", REC_DEL)
    record = twilio_api.parse(recording, Origin(folder=tmp_path))
    assert (record["recording"], record["has_recording"]) == (str(tmp_path / f"{name}.mp3"), True)


def test_the_recording_sid_file_is_preferred_to_the_call_sid_file(tmp_path):
    for name in (REC_IN, CALL_IN):
        (tmp_path / f"{name}.mp3").write_bytes(b"ID3fake")
    record = twilio_api.parse(load("recording_inbound.json"), Origin(folder=tmp_path))
    assert record["recording"] == str(tmp_path / f"{REC_IN}.mp3")


@pytest.mark.parametrize("call_sid", [None, "", "   "])
def test_a_recording_without_its_call_is_rejected_on_call_sid(call_sid):
    recording = load("recording_conference_without_call.json") | {"call_sid": call_sid}
    with pytest.raises(RecordError) as error:
        twilio_api.parse(recording, NOWHERE)
    assert error.value.field == "call_sid"


def test_a_recording_without_a_call_sid_key_is_rejected_on_call_sid():
    recording = load("recording_inbound.json")
    del recording["call_sid"]
    with pytest.raises(RecordError) as error:
        twilio_api.parse(recording, NOWHERE)
    assert error.value.field == "call_sid"


# --- through the importer into a real store -------------------------------------------


@pytest.fixture
def store(tmp_path):
    with Store(str(tmp_path / "calls.sqlite3")) as store:
        yield store


def copy_fixtures(folder: Path, *names: str) -> list[Path]:
    return records.copy_fixtures(FIXTURES, folder, *names)


def imported(store: Store, *paths: Path):
    report = import_paths(store, list(paths))
    assert report.unreadable == []
    return report


def test_importing_a_call_and_a_page_of_calls(store, tmp_path):
    paths = copy_fixtures(tmp_path / "in", "call_inbound_completed.json", "calls_page.json")
    report = imported(store, *paths)
    assert (report.counts.new, report.rejected) == (6, 0)
    calls = exported(store)
    assert set(calls) == {CALL_IN, CALL_VM, CALL_LEG, CALL_BUSY, CALL_CANCEL, CALL_RING}
    inbound = calls[CALL_IN]
    assert inbound["source"] == "twilio-api"
    assert (inbound["started_at"], inbound["ended_at"], inbound["updated_at"]) == (
        rfc3339(2026, 11, 3, 14, 5, 12), rfc3339(2026, 11, 3, 14, 8, 19),
        rfc3339(2026, 11, 3, 14, 8, 20))
    assert (inbound["direction"], inbound["customer_name"], inbound["customer_number"],
            inbound["duration_ms"], inbound["outcome"]) == (
        "inbound", "MARTA REYES", "+15550100123", 187_000, "answered")
    assert (inbound["has_recording"], inbound["recording"]) == (False, None)
    assert inbound["transcript"] == [] and inbound["analysis"] == []  # Twilio has neither
    assert calls[CALL_VM]["outcome"] == "voicemail"
    assert calls[CALL_LEG]["outcome"] == "missed"
    assert calls[CALL_BUSY]["outcome"] == "busy"
    assert calls[CALL_CANCEL]["outcome"] == "canceled"
    assert calls[CALL_RING]["outcome"] == "in_progress"
    # Newest first, by start time (the canceled call never started).
    assert list(calls) == [CALL_RING, CALL_BUSY, CALL_VM, CALL_LEG, CALL_IN, CALL_CANCEL]

    again = imported(store, *paths)
    assert (again.counts.new, again.counts.updated, again.counts.unchanged) == (0, 0, 6)


def test_an_earlier_stage_never_undoes_a_later_one(store, tmp_path):
    [done, live] = copy_fixtures(tmp_path, "call_inbound_completed.json",
                                 "call_inbound_in_progress.json")
    imported(store, done)
    assert imported(store, live).counts.unchanged == 1
    call = exported(store)[CALL_IN]
    assert (call["outcome"], call["end_reason"], call["duration_ms"]) == (
        "answered", "completed", 187_000)


def test_a_later_stage_updates_the_call(store, tmp_path):
    [live, done] = copy_fixtures(tmp_path, "call_inbound_in_progress.json",
                                 "call_inbound_completed.json")
    imported(store, live)
    assert exported(store)[CALL_IN]["outcome"] == "in_progress"
    assert imported(store, done).counts.updated == 1
    call = exported(store)[CALL_IN]
    assert (call["outcome"], call["ended_at"]) == ("answered", rfc3339(2026, 11, 3, 14, 8, 19))


def test_a_recording_after_its_call_adds_to_it(store, tmp_path):
    [call, recording] = copy_fixtures(tmp_path, "call_inbound_completed.json",
                                      "recording_inbound.json")
    imported(store, call)
    report = imported(store, recording)
    assert (report.counts.new, report.counts.updated) == (0, 1)
    [record] = exported(store).values()
    assert (record["source_id"], record["has_recording"], record["recording"]) == (
        CALL_IN, True,
        f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{REC_IN}")
    assert record["extras"]["recording_resource"]["sid"] == REC_IN
    assert record["extras"]["account_sid"] == ACCOUNT  # the call's own extras stay
    # The recording changed nothing else of the call.
    assert (record["started_at"], record["updated_at"], record["outcome"],
            record["duration_ms"]) == (rfc3339(2026, 11, 3, 14, 5, 12),
                                       rfc3339(2026, 11, 3, 14, 8, 20), "answered", 187_000)


def test_a_recording_alone_makes_no_call(store, tmp_path):
    [recording] = copy_fixtures(tmp_path, "recording_inbound.json")
    report = imported(store, recording)
    assert (report.counts.new, report.rejected) == (0, 0)
    assert report.counts.waiting == 1
    assert exported(store) == {}


def test_a_recording_before_its_call_gives_the_same_store_as_after(tmp_path):
    names = ("call_inbound_completed.json", "calls_page.json")
    recordings = ("recording_inbound.json", "recordings_page.json")
    calls_first, recordings_first = {}, {}
    for number, (order, result) in enumerate((((*names, *recordings), calls_first),
                                              ((*recordings, *names), recordings_first))):
        folder = tmp_path / f"order{number}"
        paths = copy_fixtures(folder, *order)
        with Store(str(folder / "calls.sqlite3")) as store:
            for path in paths:  # one file at a time: each its own batch
                imported(store, path)
            result.update(exported(store))
    assert calls_first == recordings_first
    assert calls_first[CALL_IN]["recording"] == (
        f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{REC_IN}")
    assert (calls_first[CALL_VM]["has_recording"], calls_first[CALL_VM]["recording"]) == (
        True, recording_url(REC_VM))
    assert (calls_first[CALL_BUSY]["has_recording"], calls_first[CALL_BUSY]["recording"]) == (
        False, None)
    assert calls_first[CALL_BUSY]["extras"]["recording_resource"]["status"] == "deleted"
    assert (calls_first[CALL_RING]["has_recording"], calls_first[CALL_RING]["recording"]) == (
        False, None)
    assert calls_first[CALL_RING]["extras"]["recording_resource"]["status"] == "processing"
    assert "recording_resource" not in calls_first[CALL_LEG]["extras"]


def test_a_recording_and_its_call_in_one_file(store, tmp_path):
    path = tmp_path / "both.json"
    path.write_bytes(orjson.dumps([load("recording_inbound.json"),
                                   load("call_inbound_completed.json")]))
    report = imported(store, path)
    assert (report.counts.new, report.rejected) == (1, 0)
    [record] = exported(store).values()
    assert (record["source_id"], record["has_recording"]) == (CALL_IN, True)


def test_a_recording_beside_its_import_is_the_local_file(store, tmp_path):
    [call, recording] = copy_fixtures(tmp_path, "call_inbound_completed.json",
                                      "recording_inbound.json")
    (tmp_path / f"{REC_IN}.mp3").write_bytes(b"ID3fake")
    imported(store, call, recording)
    [record] = exported(store).values()
    assert (record["recording"], record["has_recording"]) == (
        str(tmp_path / f"{REC_IN}.mp3"), True)


def test_a_recording_without_its_call_sid_is_rejected_naming_file_and_field(store, tmp_path):
    [path] = copy_fixtures(tmp_path, "recording_conference_without_call.json")
    report = import_paths(store, [path])
    assert report.rejected == 1 and report.counts.new == 0
    [reject] = report.rejects
    assert reject.field == "call_sid"
    assert str(reject).startswith(str(path))
    assert exported(store) == {}
