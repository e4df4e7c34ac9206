"""Times and durations as a person reads them: one formatter per fact (pure, no Qt).

The window reads them through `callviewer.ui.formatting`; the command line and the sync's
stored sentences ("Offline — last synced 14:03") use them here. Day and month names are
English, like every other word the app shows: `strftime`'s `%a`/`%b` would follow
LC_TIME, which Qt sets from the environment, and mix languages in one line.
"""

from __future__ import annotations

from datetime import datetime

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
SECOND_US = 1_000_000


def duration(ms: int | None) -> str:
    """A call's length, in units no one reads as a clock: "42 s", "21 min 05 s",
    "1 h 02 min"; "" when unknown.

    The list, the detail, the player's total and the status lines all show a length
    with this. Whole units gone by (truncated, never rounded up), so the length reads
    the same wherever it is shown and the player's position at the end never passes it
    (59.6 s is "59 s", and "0:59" at the end).
    """
    if ms is None:
        return ""
    seconds = max(0, int(ms)) // 1000
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def position(ms: int | None) -> str:
    """A moment in a recording, as a player shows it moving: "m:ss", "h:mm:ss" from an
    hour; "" when unknown. Whole seconds gone by, like `duration`."""
    if ms is None:
        return ""
    hours, rest = divmod(max(0, int(ms)) // 1000, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def local(micros: int) -> datetime:
    """An epoch-microseconds time in the machine's local time zone."""
    return datetime.fromtimestamp(micros / SECOND_US)


def local_time(micros: int | None, now: datetime | None = None, *,
               row: bool = False) -> str:
    """A time of day and its day, the day as near as it reads; "" if None.

    In words: "14:03" today, "yesterday 09:12", "Mon 09:12" in the last week, "3 Mar
    14:03" this year, "12 Mar 2025 14:03" before ("Synced 14:03", "Ann · yesterday
    09:12"). A list `row` names today too and starts with a capital: "Today 14:03",
    "Yesterday 09:12", so that every row of a list says its day.
    """
    if micros is None:
        return ""
    moment, now = local(micros), now or datetime.now()
    clock = f"{moment.hour:02d}:{moment.minute:02d}"
    days = (now.date() - moment.date()).days
    if days == 0:
        return f"Today {clock}" if row else clock
    if days == 1:
        return f"{'Y' if row else 'y'}esterday {clock}"
    if 1 < days <= 6:
        return f"{DAYS[moment.weekday()]} {clock}"
    year = "" if moment.year == now.year and days > 0 else f" {moment.year}"
    return f"{moment.day} {MONTHS[moment.month - 1]}{year} {clock}"


def full_time(micros: int | None) -> str:
    """Date and time to the second, in local time: "Mon 12 Mar 2026, 14:03:22"."""
    if micros is None:
        return "Time unknown"
    moment = local(micros)
    return (f"{DAYS[moment.weekday()]} {moment.day} {MONTHS[moment.month - 1]} "
            f"{moment.year}, {moment:%H:%M:%S}")


def day(micros: int, today: datetime | None = None) -> str:
    """A time's local day: "3 Mar" this year, "3 Mar 2025" before."""
    moment = local(micros)
    year = "" if moment.year == (today or datetime.now()).year else f" {moment.year}"
    return f"{moment.day} {MONTHS[moment.month - 1]}{year}"
