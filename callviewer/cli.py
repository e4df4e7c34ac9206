"""The command line: `callviewer [import|export|demo|info]`; no command opens the window."""

from __future__ import annotations

import argparse
import errno
import logging
import os
import sys
from pathlib import Path

from callviewer import __version__
from callviewer.sync import command as sync_command


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="callviewer", parents=[_common_options(None, False)],
        description="Browse, play and annotate phone calls answered by people and AI agents.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    # Also accepted after the command; not given there, they keep the value given before.
    common = _common_options(argparse.SUPPRESS, argparse.SUPPRESS)

    importing = commands.add_parser(
        "import", parents=[common], help="import call records from files and folders",
        description="Import JSON, NDJSON or folders of exports (MP3 recordings beside them).")
    importing.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    importing.add_argument("--format", dest="format_name", metavar="NAME",
                           help="read every record as this format instead of detecting it: "
                                "wavekat, voipbin, vapi, twilio-api (Twilio's REST API), "
                                "twilio (the Twilio-based call module), retell, elevenlabs, "
                                "bland, agent-platform")

    exporting = commands.add_parser(
        "export", parents=[common], help="print every call as canonical records",
        description="Write every call, newest first, as canonical JSON, NDJSON or CSV.")
    exporting.add_argument("--format", dest="format_name", choices=("json", "ndjson", "csv"),
                           default="json")
    exporting.add_argument("-o", "--output", type=Path, metavar="FILE",
                           help="write to FILE instead of standard output")
    exporting.add_argument("--include-deleted", action="store_true",
                           help="also export calls deleted at the source")
    exporting.add_argument("--search", metavar="TEXT", default="",
                           help="only the calls the window's search finds for TEXT (words, "
                                "and numbers however written: 555-0101, (415) 555-0101)")
    exporting.add_argument("--review-queue", action="store_true",
                           help="only the calls not done (the window's review queue)")

    commands.add_parser("demo", parents=[common], help="load the bundled demo calls")
    commands.add_parser("info", parents=[common], help="show where the database is and its counts")
    desktop = commands.add_parser(
        "install-desktop", help="add Call Viewer to this user's app launcher",
        description="Install the launcher entry, its icons and AppStream metainfo into "
                    "$XDG_DATA_HOME (else ~/.local/share), so Call Viewer appears in the app "
                    "launcher; the entry runs this install's callviewer-gui.")
    desktop.add_argument("--remove", action="store_true", help="remove them again")
    desktop.add_argument("--prefix", type=Path, metavar="DIR",
                         help="install into DIR instead (/usr/local/share: for every user)")
    sync_command.add_parser(commands, common)
    _add_team_parser(commands, common)
    commands.add_parser(
        "selftest", parents=[common], help="check that this installation works end to end",
        description="Import the demo calls into a temporary store, open the window, play a "
                    "recording and quit; exits 1 with a sentence when something fails. "
                    "The user's database and settings are not touched.")
    return parser


def main(argv: list[str] | None = None, namespace: argparse.Namespace | None = None) -> int:
    """Run the command line; returns the exit status. `namespace` holds options already parsed."""
    args = build_parser().parse_args(argv, namespace)
    if args.command is None:
        return open_window(args)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    from callviewer.redaction import install_log_redaction, install_output_redaction

    install_log_redaction()  # a database password or an API token never reaches stderr
    install_output_redaction()  # nor any line printed: reports, reject lines, errors
    if args.command in STANDALONE:
        return STANDALONE[args.command](args)
    from callviewer.app import database_url  # the window's settings say the team's
    from callviewer.store import Store, StoreError

    try:
        with Store(database_url(args.db)) as store:
            return COMMANDS[args.command](store, args)
    except StoreError as exc:
        print(f"callviewer: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("callviewer: interrupted; what was imported so far is kept.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `callviewer export | head`: the reader has all it wanted
        _silence_stdout()
        return BROKEN_PIPE


# A closed pipe ends the command quietly with the status a shell gives a process that
# SIGPIPE ended (128 + 13), as `yes | head -1` does under `set -o pipefail`.
BROKEN_PIPE = 141


def _silence_stdout() -> None:
    """Point stdout at /dev/null: Python's last flush at exit must not hit the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def _common_options(db_default: object, verbose_default: object) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="PATH_OR_URL", default=db_default,
                        help="database file or SQLAlchemy URL, such as postgresql+psycopg://"
                             "user@host:port/dbname?sslmode=require (its password from the "
                             "keyring; default: $CALLVIEWER_DB, else the team database chosen "
                             "in Preferences, else callviewer.sqlite3 in the user data folder)")
    common.add_argument("-v", "--verbose", action="store_true", default=verbose_default,
                        help="log details to stderr")
    return common


def gui_main(argv: list[str] | None = None) -> int:
    """The desktop launchers' entry point (no console window on Windows).

    `callviewer-gui [--db PATH] [-v] [FILE...]`: the files (a launcher's %F, the files
    double-clicked) are `args.paths`, to import. A separate parser: a positional on the
    main one would swallow the command names. Unknown options are ignored, not fatal:
    with no console, an error message would go unseen.
    """
    parser = argparse.ArgumentParser(
        prog="callviewer-gui", parents=[_common_options(None, False)],
        description="Open the Call Viewer window, importing the files and folders given.")
    parser.add_argument("paths", nargs="*", type=Path, metavar="FILE")
    args, unknown = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    if unknown:
        logging.getLogger(__name__).warning("ignored arguments: %s", " ".join(unknown))
    return open_window(args)  # not through `main`: its parser is 5 ms of the first paint


def open_window(args: argparse.Namespace) -> int:
    """Open the window (callviewer/app.py): logs to the log folder, one per user."""
    from callviewer.app import run

    return run(args)


def _import(store, args: argparse.Namespace) -> int:
    from callviewer.sync.formats import by_name
    from callviewer.sync.importer import ImportStopped, import_paths

    if args.format_name:
        try:
            by_name(args.format_name)
        except ValueError as exc:
            print(f"callviewer: {exc}", file=sys.stderr)
            return 2
    try:
        report = import_paths(store, args.paths, args.format_name)
    except ImportStopped as stopped:
        _print_report(stopped.report)
        print(f"callviewer: The import stopped after {stopped.committed:,} records were saved "
              f"(whole batches; running it again goes on): {stopped}", file=sys.stderr)
        return 2
    _print_report(report)
    return report.exit_code


def _print_report(report) -> None:
    print(report.summary_line())
    for sentence in report.unreadable:
        print(f"unreadable: {sentence}", file=sys.stderr)
    for reject in report.rejects:
        print(f"rejected: {reject}", file=sys.stderr)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if report.rejected > len(report.rejects):
        print(f"... and {report.rejected - len(report.rejects)} more rejected", file=sys.stderr)


def _export(store, args: argparse.Namespace) -> int:
    from callviewer.store.export import write_csv, write_json, write_json_lines

    writer = {"csv": write_csv, "ndjson": write_json_lines}.get(args.format_name, write_json)
    text = args.format_name == "csv"
    if args.search or args.review_queue:
        call_ids = _listed(store, args)
        if call_ids is None:
            return 2
        records = store.calls.export(call_ids=call_ids)
    else:
        records = store.calls.export(include_deleted=args.include_deleted)
    if not args.output:
        try:
            writer(records, sys.stdout if text else sys.stdout.buffer)
            (sys.stdout if text else sys.stdout.buffer).flush()
        except BrokenPipeError:
            raise  # the reader has gone: main() ends quietly
        except OSError as exc:
            print(f"callviewer: The export could not be written to standard output: "
                  f"{exc.strerror or exc}.", file=sys.stderr)
            return 2
        return 0
    return _export_to_file(args.output, writer, records, text)


def _listed(store, args: argparse.Namespace) -> list[int] | None:
    """The ids of the calls the window lists for `--search` (and `--review-queue`: not
    done), in its order, by the list's own SQL (listing.ids, as the window's export);
    None, said on stderr, when they could not be read."""
    from callviewer import listing

    spec = listing.ListSpec(search=args.search.strip(), include_deleted=args.include_deleted,
                            done=False if args.review_queue else None)
    try:
        conn = listing.connect(store.path or store.url)
        try:
            return listing.ids(conn, spec)
        finally:
            conn.close()
    except listing.read_errors() as exc:
        print(f"callviewer: The calls could not be read for the export: {exc}",
              file=sys.stderr)
        return None


def _export_to_file(target: Path, writer, records, text: bool) -> int:
    """Write an export to a file whole, or say why not and leave an earlier file as it was."""
    from callviewer.atomic import replacing

    existed = target.exists()
    try:
        with replacing(target, text=text) as out:
            count = writer(records, out)
    except OSError as exc:
        print(f"callviewer: {_export_failed(target, exc, existed)}", file=sys.stderr)
        logging.getLogger(__name__).info("Export to %s failed", target, exc_info=True)
        return 2
    print(f"{count} calls written to {target}", file=sys.stderr)
    return 0


def _export_failed(target: Path, exc: OSError, existed: bool) -> str:
    """The sentence for an export that could not be written."""
    kept = f"; the earlier {target} was left as it was" if existed else ""
    if exc.errno == errno.ENOENT and not target.parent.is_dir():
        return (f"The folder {target.parent} does not exist; create it or export to "
                "another folder.")
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"The disk is full, so the export to {target} was not written{kept}."
    if exc.errno == errno.EFBIG:
        return (f"The export to {target} was not written: it would be larger than this "
                f"system lets a file be{kept}.")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (f"The export to {target} was not written: the folder {target.parent} "
                f"cannot be written to{kept}.")
    if exc.errno == errno.EISDIR or target.is_dir():
        return f"{target} is a folder; give a file name to export to."
    return f"The export to {target} was not written ({exc.strerror or exc}){kept}."


def _demo(store, args: argparse.Namespace) -> int:
    from callviewer.paths import demo_dir
    from callviewer.sync.importer import import_paths

    report = import_paths(store, [demo_dir()])
    _print_report(report)
    return report.exit_code


def _info(store, args: argparse.Namespace) -> int:
    summary = store.calls.summary()
    print(f"Database:   {summary.database}")
    print(f"Schema:     {summary.schema}")
    print(f"Calls:      {summary.calls:,} ({summary.deleted} deleted at the source, "
          f"{summary.purged} purged, {summary.with_recording} with a recording)")
    for source, count in sorted(summary.by_source.items()):
        print(f"  {source:<16}{count:>10,}")
    return 0


def _add_team_parser(commands, common: argparse.ArgumentParser) -> None:
    """`team add-user NAME [--admin]` and `team remove-user NAME`: a team database's people,
    each a PostgreSQL login role of their own (store/team_roles.py)."""
    team = commands.add_parser(
        "team", parents=[common], help="add or remove the people of a team database",
        description="Give each person of a team database a PostgreSQL user of their own, "
                    "so that the server says who wrote each note. Run as the database's "
                    "administrator (a user that may create roles), with --db.")
    actions = team.add_subparsers(dest="team_command", metavar="ACTION", required=True)
    add = actions.add_parser("add-user", parents=[common], help="add a person; prints their "
                             "one-time password", description="Make a database user NAME "
                             "for one person and print its password, once.")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--admin", action="store_true",
                     help="may also hide other people's notes")
    remove = actions.add_parser("remove-user", parents=[common], help="remove a person "
                                "(their notes stay)")
    remove.add_argument("name", metavar="NAME")


def _team(store, args: argparse.Namespace) -> int:
    from callviewer.redaction import register_secret
    from callviewer.store import StoreError, team_roles

    if not store.team:
        print(f"callviewer: {store.where} is this computer's own file, used by one person; "
              "team users are for a team database: give --db postgresql+psycopg://"
              "ADMIN@HOST/DATABASE.", file=sys.stderr)
        return 2
    try:
        with store.writing() as conn:
            if args.team_command == "remove-user":
                team_roles.remove_user(conn, args.name, store.where)
            else:
                password = team_roles.add_user(conn, args.name, args.admin, store.where)
    except StoreError as exc:
        print(f"callviewer: {exc}", file=sys.stderr)
        return 2
    if args.team_command == "remove-user":
        print(f"Removed the user {args.name} from {store.where}; their notes stay, under "
              "their name.")
        return 0
    register_secret(password)  # never in a log, nor printed again
    what = "an administrator" if args.admin else "a user"
    print(f"Added {args.name} as {what} of {store.where}.")
    sys.stdout.flush()
    # The one line meant to show a secret: past the output's masking, once.
    unmasked = getattr(sys.stdout, "unmasked", sys.stdout)
    unmasked.write(f"Password (shown only now, kept nowhere): {password}\n")
    unmasked.flush()
    print(f"Give it to {args.name} privately; in Preferences ▸ Team database they enter "
          f"the user {args.name} and this password.")
    return 0


def _selftest(args: argparse.Namespace) -> int:
    from callviewer.selftest import run

    return run(args)


def _install_desktop(args: argparse.Namespace) -> int:
    from callviewer.desktop import DesktopError, install_desktop, uninstall_desktop

    try:
        paths = uninstall_desktop(args.prefix) if args.remove else install_desktop(args.prefix)
    except (DesktopError, OSError) as exc:
        print(f"callviewer: {exc}", file=sys.stderr)
        return 2
    if args.remove:
        print(f"Removed {len(paths)} files:" if paths else "Nothing to remove.")
    else:
        print(f"Installed the launcher entry, its metainfo and {len(paths) - 2} icons:")
    for path in paths:
        print(f"  {path}")
    return 0


# Commands that run on an open store.
COMMANDS = {"import": _import, "export": _export, "demo": _demo, "info": _info,
            "sync": sync_command.run, "team": _team}
# Commands that open no store (or open their own).
STANDALONE: dict = {"selftest": _selftest, "install-desktop": _install_desktop}


if __name__ == "__main__":
    sys.exit(main())
