"""The one base of the errors a person can act on: their str() is the sentence to show.

Anything else an operation raises is a bug, for the crash dialog. Light on purpose (no
SQLAlchemy, no Qt), so that the window's task runner can tell the two apart without
loading the store.
"""


class ExpectedError(Exception):
    """A problem the user can act on (a database out of reach, a file gone): str() is
    the sentence to show where it happened; never a crash report."""
