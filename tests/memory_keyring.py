"""A keyring backend kept in memory, for tests (a real keyring is a system service), and
a fixture-friendly way to install it."""

from __future__ import annotations

import keyring
from keyring.backend import KeyringBackend


class MemoryKeyring(KeyringBackend):
    """Secrets in a dict: `kept[(service, key)]`."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.kept: dict = {}

    def get_password(self, service, username):
        return self.kept.get((service, username))

    def set_password(self, service, username, password):
        self.kept[(service, username)] = password

    def delete_password(self, service, username):
        self.kept.pop((service, username), None)


def use_memory_keyring():
    """Install a MemoryKeyring; returns it and the backend to put back afterwards."""
    before = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    return memory, before
