"""The source formats, in detection order, and how to pick one for a record or by name."""

from __future__ import annotations

from types import ModuleType

from callviewer.sync import agent_platform, twilio, vapi, voipbin, wavekat

# Each module's `matches` looks for keys no other format has, so the order only
# settles hand-made records that mix formats.
FORMATS: tuple[ModuleType, ...] = (wavekat, voipbin, vapi, twilio, agent_platform)


def detect(obj: dict) -> ModuleType | None:
    """The format module whose key signature `obj` has, or None."""
    return next((module for module in FORMATS if module.matches(obj)), None)


def by_name(name: str) -> ModuleType:
    """The format module named `name` (as for ``--format``); ValueError lists the valid names."""
    for module in FORMATS:
        if name.strip().lower() == module.NAME:
            return module
    valid = ", ".join(module.NAME for module in FORMATS)
    raise ValueError(f"Unknown format {name!r}; use one of: {valid}.")
