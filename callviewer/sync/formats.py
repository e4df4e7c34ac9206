"""The source formats, in detection order, and how to pick one for a record or by name."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from callviewer.sync import (
    agent_platform,
    bland,
    elevenlabs,
    retell,
    twilio,
    twilio_api,
    vapi,
    voipbin,
    wavekat,
)

# Each module's `matches` answers the keys of its signature that the record has. Most
# signatures are keys no other format has; where two share one (Twilio's REST API and
# the call module both write `call_sid`; Retell and Bland both `call_id`, which the
# agent platform also has), the more particular format is asked first.
FORMATS: tuple[ModuleType, ...] = (wavekat, voipbin, vapi, twilio_api, twilio, retell,
                                   elevenlabs, bland, agent_platform)


@dataclass(frozen=True)
class Detection:
    """The format a record was read as, and the keys that decided it."""

    module: ModuleType
    keys: tuple[str, ...]

    def explain(self) -> str:
        """``read as agent-platform (for its keys call_id, disconnection_reason)``."""
        keys = ", ".join(self.keys[:4]) + (", …" if len(self.keys) > 4 else "")
        return f"read as {self.module.NAME} (for its keys {keys})" if keys else \
            f"read as {self.module.NAME} (as asked)"


def detect(obj: dict) -> Detection | None:
    """The format whose key signature `obj` has (with those keys), or None."""
    for module in FORMATS:
        keys = module.matches(obj)
        if keys:
            return Detection(module, keys)
    return None


def by_name(name: str) -> ModuleType:
    """The format module named `name` (as for ``--format``); ValueError lists the valid names."""
    for module in FORMATS:
        if name.strip().lower() == module.NAME:
            return module
    valid = ", ".join(module.NAME for module in FORMATS)
    raise ValueError(f"Unknown format {name!r}; use one of: {valid}.")


def names() -> str:
    """Every format's name, for sentences: ``wavekat, voipbin, …``."""
    return ", ".join(module.NAME for module in FORMATS)
