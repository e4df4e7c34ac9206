"""`callviewer sync …`: add, list, remove and run sync connections from the command line.

    callviewer sync add NAME --api KIND [--url BASE] [--token-stdin] [--set KEY=VALUE]...
    callviewer sync add NAME --url BASE_URL [--token-stdin] [--set KEY=VALUE]... [--db DB]
    callviewer sync add NAME --folder PATH [--set KEY=VALUE]... [--db DB]
    callviewer sync list | remove NAME | run [NAME] [--full] [--db DB]

Only argparse is imported at start-up; the sync machinery when a command runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from callviewer.store import SyncConnection


def add_parser(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add `sync` and its subcommands to the command line."""
    sync = commands.add_parser("sync", parents=[common], help="sync calls from APIs and folders",
                               description="Keep the store current from calls APIs and "
                                           "watched folders, recordings archived locally.")
    actions = sync.add_subparsers(dest="sync_command", metavar="ACTION", required=True)

    add = actions.add_parser("add", parents=[common], help="add a connection",
                             description="Add a vendor's calls API (--api KIND, its address "
                                         "changed with --url), the agent platform's calls API "
                                         "(--url alone) or a watched folder (--folder) under "
                                         "a name.")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--api", metavar="KIND",
                     help="vapi, twilio, voipbin, retell, elevenlabs, bland, call-module or "
                          "agent-platform")
    where = add.add_mutually_exclusive_group()
    where.add_argument("--url", metavar="BASE_URL", help="the API's base address (a vendor's "
                                                          "default with --api)")
    where.add_argument("--folder", type=Path, metavar="PATH", help="a folder of exports")
    add.add_argument("--token-stdin", action="store_true",
                     help="read the API's secret from standard input (Twilio: SID:SECRET)")
    add.add_argument("--set", dest="settings", action="append", default=[],
                     metavar="KEY=VALUE", help="change one of the connection's defaults "
                                               "(see the README)")

    actions.add_parser("list", parents=[common], help="list the connections and how they stand")
    remove = actions.add_parser("remove", parents=[common], help="remove a connection "
                                                                  "(its calls stay)")
    remove.add_argument("name", metavar="NAME")
    run = actions.add_parser("run", parents=[common], help="sync once and exit",
                             description="Sync one connection, or all, once. Exit status: 0 "
                                         "all went well, 1 some records were rejected, 2 a "
                                         "connection failed.")
    run.add_argument("name", nargs="?", metavar="NAME")
    run.add_argument("--full", action="store_true",
                     help="walk each source's whole history: deletions, purges and done "
                          "flags of calls of any age arrive")


def run(store, args: argparse.Namespace) -> int:
    """Carry out `sync ACTION` on the open store; returns the exit status."""
    return {"add": _add, "list": _list, "remove": _remove, "run": _run}[args.sync_command](
        store, args)


def _add(store, args: argparse.Namespace) -> int:
    from callviewer.store import StoreError
    from callviewer.sync.connection import API_KINDS, parse_setting
    from callviewer.sync.manage import FOLDER, add_connection

    token = None
    if args.token_stdin:
        token = sys.stdin.readline().strip()
        if not token:
            print("callviewer: No token was given on standard input.", file=sys.stderr)
            return 2
    if args.folder is None and args.url is None and args.api is None:
        print("callviewer: Say where the calls come from: --api KIND, --url BASE_URL or "
              "--folder PATH.", file=sys.stderr)
        return 2
    if args.folder is not None and args.api is not None:
        print("callviewer: --api and --folder do not go together.", file=sys.stderr)
        return 2
    try:
        kind = FOLDER if args.folder is not None else \
            API_KINDS.get((args.api or "agent-platform").lower(), args.api)
        settings = dict(parse_setting(kind, text) for text in args.settings)
        row, kept = add_connection(store, args.name, url=args.url, folder=args.folder,
                                   token=token, settings=settings, api=args.api)
    except (ValueError, StoreError) as exc:
        print(f"callviewer: {exc}", file=sys.stderr)
        return 2
    print(f"Added the {row.kind} connection {row.name} ({_where(row)}).")
    if kept:
        print(kept)
    elif row.kind != "folder":
        print("No token was given: the API is called without one (add one with "
              "--token-stdin).")
    return 0


def _list(store, args: argparse.Namespace) -> int:
    from callviewer.times import local_time

    rows = store.sync.connections()
    if not rows:
        print("No connections; add one with `callviewer sync add`.")
    for row in rows:
        where = _where(row)
        synced = f"last synced {local_time(row.last_sync_at)}" if row.last_sync_at \
            else "not synced yet"
        print(f"{row.name}\t{row.kind}\t{where}\t{synced}\t{row.status}")
        if row.error:
            print(f"  {row.error}")
    return 0


def _where(row: SyncConnection) -> str | None:
    """A connection's folder, or its address without a user, password or query: one stored
    before `sync add` refused them is shown masked, and its secrets masked wherever seen."""
    from callviewer.redaction import redact_url, register_url_secrets

    url = row.settings.get("url")
    if url is None:
        return row.settings.get("folder")
    register_url_secrets(url)
    return redact_url(url)


def _remove(store, args: argparse.Namespace) -> int:
    from callviewer.sync.manage import remove_connection

    row = remove_connection(store, args.name)
    print(f"Removed the connection {row.name}; its calls and recordings stay.")
    return 0


def _run(store, args: argparse.Namespace) -> int:
    from callviewer.sync.runner import run_sync

    report = run_sync(store.url, args.name, args.full)
    _say(report.summary_line())
    _say(report.downloads_line())
    for name in report.waiting:
        _say(f"waiting: {name} is still being written; it is imported on a later sync.")
    for reject in report.rejects:
        _say(f"rejected: {reject}", sys.stderr)
    if report.rejected > len(report.rejects):
        _say(f"... and {report.rejected - len(report.rejects)} more rejected", sys.stderr)
    for sentence in report.recording_errors:
        _say(f"recording: {sentence}", sys.stderr)
    for name in report.elsewhere:
        _say(f"{name}: another desktop is syncing it now; left to it.")
    for name, sentence in report.failures.items():
        _say(f"callviewer: {name}: {sentence}", sys.stderr)
    if report.canceled:
        _say("callviewer: the sync was canceled; run it again to go on.", sys.stderr)
    return report.exit_code


def _say(line: str, out=None) -> None:
    """Print one line of a sync's report, masked: no token, password or signed query."""
    from callviewer.redaction import redact_text

    print(redact_text(line), file=out or sys.stdout)
