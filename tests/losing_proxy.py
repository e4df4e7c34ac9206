"""A TCP proxy on loopback in front of the test PostgreSQL server that can lose the answer
to a COMMIT: the server has committed, and the client sees its connection drop, as when a
network goes down at that moment."""

from __future__ import annotations

import socket
import threading
from contextlib import suppress

# psycopg commits with a simple query: 'Q', its length (4 + 7), "COMMIT\0".
COMMIT = b"Q\x00\x00\x00\x0bCOMMIT\x00"


class LosingProxy:
    """Forwards connections to `port`; after `lose_commit_of(statement)`, the COMMIT of the
    next transaction that sends `statement` reaches the server, and its answer is dropped
    with the connection."""

    def __init__(self, port: int) -> None:
        self._target = port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._statement: bytes | None = None
        self.lost = threading.Event()  # set once an answer was dropped
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, url: str) -> str:
        """A database URL of the proxied server, through this proxy."""
        return url.replace(f"127.0.0.1:{self._target}/", f"127.0.0.1:{self.port}/")

    def lose_commit_of(self, statement: bytes) -> None:
        self.lost.clear()
        self._statement = statement

    def close(self) -> None:
        for sock in [self._listener, *self._sockets]:
            sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _address = self._listener.accept()
            except OSError:  # closed
                return
            server = socket.create_connection(("127.0.0.1", self._target))
            self._sockets += [client, server]
            committing = threading.Event()
            threading.Thread(target=self._requests, args=(client, server, committing),
                             daemon=True).start()
            threading.Thread(target=self._answers, args=(server, client, committing),
                             daemon=True).start()

    def _requests(self, client: socket.socket, server: socket.socket,
                  committing: threading.Event) -> None:
        sent = False  # the statement went on this connection since its last COMMIT
        while data := _receive(client):
            statement = self._statement
            sent = sent or (statement is not None and statement in data)
            if sent and COMMIT in data:
                self._statement, sent = None, False
                committing.set()
            if not _send(server, data):
                break
        _close(client, server)

    def _answers(self, server: socket.socket, client: socket.socket,
                 committing: threading.Event) -> None:
        while data := _receive(server):
            if committing.is_set():  # the server's answer to the COMMIT: lost
                self.lost.set()
                break
            if not _send(client, data):
                break
        _close(client, server)


def _receive(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except OSError:
        return b""


def _send(sock: socket.socket, data: bytes) -> bool:
    try:
        sock.sendall(data)
        return True
    except OSError:
        return False


def _close(*sockets: socket.socket) -> None:
    for sock in sockets:
        with suppress(OSError):  # closed by the other side meanwhile
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
