"""The bundle's entry point: one executable for the window and the command line.

Double-clicked (no arguments) or handed files by the desktop (a launcher's %F, files
opened with it), it opens the window as `callviewer-gui` does, importing the files;
given a command (`callviewer selftest`, `callviewer import …`), `--help` or
`--version`, it is the `callviewer` command; given `--sync-process`, it is the window's
sync running in a process of its own.
"""

import sys

from callviewer.cli import COMMANDS, STANDALONE, gui_main, main
from callviewer.sync.process import FROZEN_ARGUMENT, child_main


def entry_point(argv: list[str]):
    """`main` when the arguments name a command or ask for help, the sync's process
    (callviewer/sync/process.py) when the window starts one, else `gui_main`."""
    if argv[:1] == [FROZEN_ARGUMENT]:
        return lambda _argv: child_main()
    rest = iter(argv)
    for arg in rest:
        if arg in ("-h", "--help", "--version"):
            return main
        if arg == "--db":
            next(rest, None)  # its value
        elif not arg.startswith("-"):
            return main if arg in COMMANDS or arg in STANDALONE else gui_main
    return gui_main


if __name__ == "__main__":
    # Old macOS Finders pass a process serial number; it is no argument of ours.
    arguments = [arg for arg in sys.argv[1:] if not arg.startswith("-psn_")]
    sys.exit(entry_point(arguments)(arguments))
