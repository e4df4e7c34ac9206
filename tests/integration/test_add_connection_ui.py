"""Preferences ▸ Sync ▸ Add connection, the real dialog: the fields each vendor needs and no
others, Test connection against a loopback fake of Vapi's GET /call (what it found, a wrong
key, an expired recording link, nothing listening), Add through manage.add_connection with
the key kept where keys are kept, Enter never adding a half-filled connection, Esc."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime, timedelta

import pytest
from fake_vendor import FakeVendor, Reply
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from callviewer.record import parse_time
from callviewer.secrets import load_secret
from callviewer.store import Store
from callviewer.sync.sources.vendor_api import found_sentence
from callviewer.times import day
from callviewer.ui.connection_dialog import AddConnectionDialog

KEY = "3f6a2b9c-1d4e-4f5a-8b7c-9d0e1f2a3b4c"
REFUSED = "The Vapi API refused the key: check it and test again."


class TinyVapi(FakeVendor):
    """GET /call (bearer auth) newest first, answering a wrong key as Vapi does."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[dict] = []
        self.route("GET", r"/call", lambda seen, _match: Reply(200, self.calls[
            :int(seen.query.get("limit", 100))]))

    def authorized(self, seen) -> bool:
        return seen.headers.get("authorization") == f"Bearer {KEY}"

    def refused(self, seen) -> Reply:
        return Reply(401, {"message": "Invalid Key. Hot tip, you may be using the private key "
                                      "instead of the public key, or vice versa.",
                           "error": "Unauthorized", "statusCode": 401})

    def add(self, n: int, created: datetime) -> None:
        stamp = created.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        ended = (created + timedelta(seconds=40)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        call_id = f"c0ffee00-0000-4000-8000-{n:012d}"
        self.calls.insert(0, {
            "id": call_id, "type": "inboundPhoneCall", "status": "ended",
            "endedReason": "customer-ended-call", "createdAt": stamp, "updatedAt": ended,
            "startedAt": stamp, "endedAt": ended, "customer": {"number": f"+1415555{n:04d}"},
            "artifact": {"recordingUrl": self.signed_link(call_id), "messages": [
                {"role": "bot", "message": "Riverside Dental.", "secondsFromStart": 0.4}]}})


FIRST = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)


@pytest.fixture
def fake():
    with TinyVapi() as server:
        for n in range(3):
            server.add(n, FIRST + timedelta(days=n))
        yield server


@pytest.fixture
def store(tmp_path):
    with Store(str(tmp_path / "calls.sqlite3")) as opened:
        yield opened


@pytest.fixture
def dialog(qtbot, store, tasks):
    shown = AddConnectionDialog(store, tasks)
    qtbot.addWidget(shown)
    with qtbot.waitExposed(shown):
        shown.show()
    qtbot.waitUntil(lambda: shown.reading_names is None)  # the names in use, read
    yield shown
    if shown._test is not None:  # let a test still running end before the next test
        qtbot.waitUntil(lambda: shown._test is None, timeout=30_000)


def choose(dialog, label: str) -> None:
    dialog.vendor.setCurrentIndex(dialog.vendor.findText(label))


def shown_labels(dialog) -> list[str]:
    """The labels of the form's rows shown, as a person reads them."""
    form = dialog.form
    labels = []
    for row in range(form.rowCount()):
        label = form.itemAt(row, form.ItemRole.LabelRole)
        field = form.itemAt(row, form.ItemRole.FieldRole)
        if label and label.widget().text() and field.widget().isVisibleTo(dialog):
            labels.append(label.widget().text().replace("&", ""))
    return labels


def type_into(qtbot, field, text: str) -> None:
    field.setFocus()
    field.selectAll()
    qtbot.keyClick(field, Qt.Key.Key_Delete)
    qtbot.keyClicks(field, text)


def press_add(qtbot, dialog, field) -> None:
    """Enter in `field`; then wait for the add's answer: the dialog closed, or a sentence."""
    qtbot.keyClick(field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.message.text() != "Adding…", timeout=10_000)


def press_test(qtbot, dialog) -> str:
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.message.text() not in ("", "Testing…"), timeout=30_000)
    return dialog.message.text()


def local_day(moment: datetime) -> str:
    return day(parse_time(moment.isoformat(), "t"))


def test_vapi_asks_for_name_address_and_key_only(dialog):
    choose(dialog, "Twilio")
    choose(dialog, "Vapi")
    assert shown_labels(dialog) == ["Vendor:", "Name:", "Address:", "API key:"]
    assert dialog.url.text() == "https://api.vapi.ai"  # the vendor's default, editable
    assert dialog.name.text() == "Vapi"
    assert dialog.secret.echoMode() == dialog.secret.EchoMode.Password
    assert dialog.test_button.isVisibleTo(dialog)


def test_another_vendor_takes_no_key_or_address_of_the_first(qtbot, dialog):
    type_into(qtbot, dialog.url, "https://eu.api.vapi.example")
    type_into(qtbot, dialog.secret, KEY)
    choose(dialog, "Twilio")
    assert dialog.secret.text() == "" and dialog.url.text() == "https://api.twilio.com"
    assert dialog.name.text() == "Twilio"  # the name offered follows the vendor
    type_into(qtbot, dialog.name, "Support line")
    choose(dialog, "Retell")
    assert dialog.name.text() == "Support line"  # one the person typed stays


def test_twilio_asks_for_two_secrets_joined_as_sid_and_secret(qtbot, dialog):
    choose(dialog, "Twilio")
    assert shown_labels(dialog) == ["Vendor:", "Name:", "Address:", "SID:", "Secret:"]
    assert dialog.second.echoMode() == dialog.second.EchoMode.Password
    assert dialog.secret.echoMode() == dialog.secret.EchoMode.Normal  # a SID is no secret
    type_into(qtbot, dialog.secret, "AC0123456789abcdef0123456789abcdef")
    assert dialog.missing() == (dialog.second, "Enter the secret that goes with the SID.")
    type_into(qtbot, dialog.second, " s3cret ")
    assert dialog.token() == "AC0123456789abcdef0123456789abcdef:s3cret"


def test_a_connector_missing_from_this_version_is_said_and_not_added(monkeypatch, store,
                                                                      qtbot, tasks):
    from callviewer.sync import connection

    monkeypatch.setitem(connection.KINDS, "bland", "callviewer.sync.sources.no_such_api")
    dialog = AddConnectionDialog(store, tasks)
    qtbot.addWidget(dialog)
    choose(dialog, "Bland")
    assert dialog.message.text() == ("This version of Call Viewer cannot connect to Bland yet: "
                                     "its connector is missing.")
    assert not dialog.add_button.isEnabled() and not dialog.test_button.isEnabled()
    choose(dialog, "Watched folder")
    assert dialog.add_button.isEnabled() and dialog.message.text() == ""


def test_a_watched_folder_asks_for_its_folder_only(qtbot, dialog, store, tmp_path):
    choose(dialog, "Watched folder")
    assert shown_labels(dialog) == ["Vendor:", "Name:", "Folder:"]
    assert not dialog.test_button.isVisibleTo(dialog)
    type_into(qtbot, dialog.folder, str(tmp_path))
    qtbot.keyClick(dialog.folder, Qt.Key.Key_Return)
    assert dialog.message.text() == "Give the connection a name."
    type_into(qtbot, dialog.name, "Exports")
    press_add(qtbot, dialog, dialog.name)
    assert dialog.result() == QDialog.DialogCode.Accepted and not dialog.isVisible()
    [row] = store.sync.connections()
    assert (row.kind, row.settings["folder"]) == ("folder", str(tmp_path.resolve()))


def test_test_connection_says_what_the_first_page_holds(qtbot, dialog, fake):
    type_into(qtbot, dialog.url, fake.url)
    type_into(qtbot, dialog.secret, KEY)
    assert press_test(qtbot, dialog) == f"Connected: 3 calls since {local_day(FIRST)}."
    # The first list page and one byte of the newest recording: nothing more.
    assert (fake.seen[0].method, fake.seen[0].path) == ("GET", "/call")
    assert len(fake.requests_to("/call")) == 1 and len(fake.seen) == 2
    assert fake.requests_to("/media")[0].headers["range"] == "bytes=0-0"

    type_into(qtbot, dialog.secret, "not-the-key")
    assert press_test(qtbot, dialog) == REFUSED
    assert KEY not in dialog.message.text()


def test_test_connection_says_when_recordings_cannot_be_fetched(qtbot, dialog, fake):
    fake.link_ttl = -60  # links that expired before they were listed
    fake.calls.clear()
    fake.add(7, FIRST)
    type_into(qtbot, dialog.url, fake.url)
    type_into(qtbot, dialog.secret, KEY)
    assert press_test(qtbot, dialog) == (f"Connected: 1 call since {local_day(FIRST)}, but "
                                         "the newest recording could not be fetched.")


def test_test_connection_says_when_nothing_answers(qtbot, dialog):
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    type_into(qtbot, dialog.url, f"http://127.0.0.1:{port}")
    type_into(qtbot, dialog.secret, KEY)
    assert press_test(qtbot, dialog) == f"The Vapi API at 127.0.0.1:{port} could not be reached."


def test_the_agent_platforms_test_counts_its_calls(qtbot, dialog, api):
    from fake_calls_api import TOKEN

    api.seed(3, start=FIRST + timedelta(days=2), spacing_s=86_400)
    choose(dialog, "Agent platform")
    assert shown_labels(dialog) == ["Vendor:", "Name:", "Address:", "API token:"]
    assert dialog.url.text() == "" and dialog.name.text() == "Agent platform"
    type_into(qtbot, dialog.url, api.url)
    assert press_test(qtbot, dialog) == REFUSED.replace("Vapi API", "calls API")
    type_into(qtbot, dialog.secret, TOKEN)
    assert press_test(qtbot, dialog) == f"Connected: 3 calls since {local_day(FIRST)}."


def test_closing_while_a_test_runs_lets_it_end_quietly(qtbot, dialog, fake, tasks):
    from callviewer.ui.tasks import Lane

    held = threading.Event()
    fake.route("GET", r"/slow/call", lambda _seen, _match: held.wait(10) and Reply(200, []))
    type_into(qtbot, dialog.url, fake.url + "/slow")
    type_into(qtbot, dialog.secret, KEY)
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    assert dialog.message.text() == "Testing…"
    qtbot.keyClick(dialog.secret, Qt.Key.Key_Escape)
    assert not dialog.isVisible() and tasks.busy(Lane.JOB)
    held.set()
    assert tasks.wait(Lane.JOB, 20_000)
    qtbot.wait(50)  # its answer, were it wanted, would have been delivered by now
    assert dialog.message.text() == "Testing…"  # its answer went nowhere


def test_test_connection_asks_for_the_key_first(qtbot, dialog):
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    assert dialog.message.text() == "Enter the API key."
    assert dialog.focusWidget() is dialog.secret


def test_enter_adds_only_a_whole_connection_and_keeps_the_key(qtbot, dialog, store, fake):
    type_into(qtbot, dialog.url, fake.url)
    type_into(qtbot, dialog.name, "")
    qtbot.keyClick(dialog.name, Qt.Key.Key_Return)
    assert dialog.isVisible() and dialog.message.text() == "Give the connection a name."
    type_into(qtbot, dialog.name, "Front desk")
    qtbot.keyClick(dialog.name, Qt.Key.Key_Return)
    assert dialog.isVisible() and dialog.message.text() == "Enter the API key."
    assert dialog.focusWidget() is dialog.secret and store.sync.connections() == []
    qtbot.keyClicks(dialog.secret, KEY)
    press_add(qtbot, dialog, dialog.secret)
    assert dialog.result() == QDialog.DialogCode.Accepted and not dialog.isVisible()
    [row] = store.sync.connections()
    assert (row.name, row.kind, row.settings["url"]) == ("Front desk", "vapi",
                                                                   fake.url)
    assert load_secret(row.secret_key) == KEY
    assert KEY not in str(row)
    assert dialog.kept.startswith("No system keyring is available, so the token was saved")


def test_a_name_already_taken_keeps_the_dialog_open(qtbot, store, dialog):
    store.sync.add_connection("Vapi", "vapi", {"url": "https://api.vapi.ai"})
    type_into(qtbot, dialog.secret, KEY)
    press_add(qtbot, dialog, dialog.secret)
    assert dialog.isVisible() and "Vapi" in dialog.message.text()
    assert dialog.add_button.isEnabled()  # to try again under another name
    assert len(store.sync.connections()) == 1


def test_esc_closes_without_adding(qtbot, dialog, store):
    type_into(qtbot, dialog.secret, KEY)
    qtbot.keyClick(dialog.secret, Qt.Key.Key_Escape)
    assert dialog.result() == QDialog.DialogCode.Rejected and not dialog.isVisible()
    assert store.sync.connections() == []


def test_the_sync_page_adds_through_the_dialog(qtbot, store, fake, tmp_path, tasks):
    from PySide6.QtCore import QSettings

    from callviewer.ui.preferences import SyncPage

    page = SyncPage(store, QSettings(str(tmp_path / "settings.ini"),
                                     QSettings.Format.IniFormat), tasks)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: not page.reading)
    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    dialog = page.add_dialog
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: dialog.reading_names is None)
    assert dialog.name.text() == "Vapi"
    type_into(qtbot, dialog.url, fake.url)
    type_into(qtbot, dialog.secret, KEY)
    press_add(qtbot, dialog, dialog.secret)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert page.message.text().startswith("Added Vapi. No system keyring is available")
    qtbot.waitUntil(lambda: page.table.rowCount() == 1)  # read again, off this thread
    assert page.table.item(0, 1).text() == "Vapi"
    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.add_dialog.reading_names is None)
    assert page.add_dialog.name.text() == "Vapi 2"  # a free name is offered
    page.add_dialog.reject()


def test_what_a_first_page_tells():
    march = parse_time("2026-03-03T12:00:00Z", "t")
    newest = parse_time("2026-03-09T12:00:00Z", "t")
    records = [{"started_at": newest}, {"created_at": march}]
    assert found_sentence([], 0, False, None) == "Connected: there are no calls yet."
    assert found_sentence(records, 2, False, None) == f"Connected: 2 calls since {day(march)}."
    assert found_sentence(records, 100, True, 1284) == \
        f"Connected: 1,284 calls, the newest from {day(newest)}."
    assert found_sentence(records, 100, True, None) == \
        f"Connected: calls are there, the newest from {day(newest)}."
    assert day(march, today=datetime(2026, 6, 1)) == "3 Mar"
    assert day(march, today=datetime(2027, 1, 1)).endswith(" 2026")
