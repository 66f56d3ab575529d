"""Fixtures: the loopback peers the C tests use (relaymail-sink over SMTP,
the file:// transport), and a parser for what they stored."""

import email
import email.policy
import json
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SINK = Path(os.environ.get("RELAYMAIL_SINK",
                           ROOT / "build" / "bin" / "relaymail-sink"))


def parse(data: bytes) -> email.message.EmailMessage:
    """The message as Python's email package reads it."""
    return email.message_from_bytes(data, policy=email.policy.default)


def wait_for(path: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.stat().st_size > 0):
        if time.monotonic() > deadline:
            raise AssertionError("%s did not appear" % path)
        time.sleep(0.05)


class Sink:
    """A relaymail-sink on a free loopback port, storing into a folder."""

    def __init__(self, folder: Path, *args: str) -> None:
        self.dir = folder
        port_file = folder.with_suffix(".port")
        self.proc = subprocess.Popen(
            [str(SINK), "--dir", str(folder), "--port", "0",
             "--port-file", str(port_file), "--quiet", *args],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(port_file)
        self.port = int(port_file.read_text().strip())
        self.url = "smtp://127.0.0.1:%d" % self.port

    def received(self, n: int = 1):
        """The n-th stored message (parsed) and its envelope."""
        wait_for(self.dir / ("%d.json" % n))
        raw = (self.dir / ("%d.eml" % n)).read_bytes()
        envelope = json.loads((self.dir / ("%d.json" % n)).read_text())
        return parse(raw), envelope, raw

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


@pytest.fixture
def sink(tmp_path):
    if not SINK.exists():
        pytest.skip("relaymail-sink is not built (make)")
    s = Sink(tmp_path / "sink")
    yield s
    s.stop()


@pytest.fixture
def small_sink(tmp_path):
    """A sink that takes messages of at most 2000 octets."""
    if not SINK.exists():
        pytest.skip("relaymail-sink is not built (make)")
    s = Sink(tmp_path / "small", "--max-size", "2000")
    yield s
    s.stop()


@pytest.fixture
def closed_port():
    """A loopback port nothing listens on."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
