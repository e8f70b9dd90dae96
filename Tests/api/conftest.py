"""Starts a real `granary serve` on a free loopback port for the API tests."""
import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def pytest_configure(config):
    config.addinivalue_line("markers", "keystone: needs the real Keystone of tools/keystone-peer (deselect with -m 'not keystone')")
    config.addinivalue_line("markers", "slow: takes many seconds (process kills, CLI runs, random request runs)")


def granary_binary():
    """The granary executable: $GRANARY_BINARY if set (a build kept elsewhere), else the debug or release build."""
    if os.environ.get("GRANARY_BINARY"):
        return os.environ["GRANARY_BINARY"]
    for candidate in (ROOT / ".build" / "debug" / "granary", ROOT / ".build" / "release" / "granary"):
        if candidate.exists():
            return str(candidate)
    raise RuntimeError("build granary first (swift build), or set GRANARY_BINARY")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class GranaryServer:
    """A running `granary serve` on free loopback ports with its own data directory, which holds
    serve.log and the store. Given `data` (an earlier server's directory) it restarts on that
    store; given `port` its images API listens there (clients made for the earlier one still
    reach it). Use it as a context manager, or stop() it in a finally: either way the data
    directory is removed even when the test fails."""

    def __init__(self, *extra, env=None, data=None, port=None):
        self.data = data or tempfile.mkdtemp(prefix="granary-pytest-")
        self.store = os.path.join(self.data, "store")
        self.port, self.artifacts_port = port or free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.damaged = False  # set by a test that damages its store on purpose: stop() then skips fsck
        self.artifacts_url = f"http://127.0.0.1:{self.artifacts_port}"
        self._log = open(os.path.join(self.data, "serve.log"), "a")
        self.proc = subprocess.Popen(
            [granary_binary(), "serve", "--data", self.store, "--port", str(self.port),
             "--artifacts-port", str(self.artifacts_port), "--log-level", "warning", *extra],
            stdout=self._log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
        )
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(self.url + "/versions", timeout=1).read()
                return
            except Exception:
                if self.proc.poll() is not None or time.time() > deadline:
                    self.kill()
                    log = self.log_text()
                    if data is None:  # a directory of its own: nobody else will remove it
                        shutil.rmtree(self.data, ignore_errors=True)
                    raise RuntimeError("granary serve did not start: " + log)
                time.sleep(0.1)

    def log_text(self):
        with open(os.path.join(self.data, "serve.log")) as log:
            return log.read()

    def alive(self):
        return self.proc.poll() is None

    def kill(self):
        """SIGKILL, as a crash would; the data stays for a restart on it (stop() removes it). Returns the exit status."""
        self.proc.kill()
        self.proc.wait()
        self._log.close()
        return self.proc.returncode

    def stop(self, remove=True):
        """SIGTERM; the server must exit with 0 within 20 s, and `granary fsck` must find its store
        sound (every test that served data ends with the engine's consistency check). Then the data
        directory is removed, unless `remove` is False (to look at the store or restart on it; a
        later stop() removes it). A server already stopped or killed is only checked and removed."""
        code = 0
        if not self._log.closed:
            self.proc.terminate()
            try:
                code = self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                code = "none, still running after 20 s"
                self.proc.kill()
                self.proc.wait()
            self._log.close()
        log = self.log_text()[-3000:] if code != 0 else ""
        fsck = self.fsck() if code == 0 and remove and not self.damaged and os.path.isdir(self.store) else None
        if remove:
            shutil.rmtree(self.data, ignore_errors=True)
        assert code == 0, f"granary serve did not shut down cleanly on SIGTERM (exit status {code}): {log}"
        assert fsck is None or fsck.returncode == 0, f"fsck found the store inconsistent after the test: {fsck.stdout}{fsck.stderr}"

    def fsck(self):
        """`granary fsck --json` of the store (the server may still run: fsck reads a snapshot)."""
        return subprocess.run([granary_binary(), "fsck", "--data", self.store, "--json"], capture_output=True, text=True, timeout=300)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start_server(*extra, env=None, data=None, port=None):
    """Starts `granary serve` with the arguments `extra` (see GranaryServer)."""
    return GranaryServer(*extra, env=env, data=data, port=port)


@pytest.fixture(scope="session")
def granary():
    """The session's noauth server."""
    with start_server() as server:
        yield server


@pytest.fixture(scope="session")
def server(granary):
    """The images API URL of the session's noauth server."""
    return granary.url


@pytest.fixture(scope="session")
def headers_granary():
    """A server in `--auth headers` mode: callers are who the X-* headers say."""
    with start_server("--auth", "headers") as server:
        yield server


@pytest.fixture(scope="session")
def headers_server(headers_granary):
    """The images API URL of the `--auth headers` server."""
    return headers_granary.url


def identity(project, roles="reader,member"):
    return {"X-Identity-Status": "Confirmed", "X-Project-Id": project, "X-User-Id": "user-" + project, "X-Roles": roles}


IDENTITY_HEADERS = {"X-Identity-Status", "X-Project-Id", "X-Tenant-Id", "X-User-Id", "X-Roles"}


def _identity_headers_as_keystonemiddleware_sets_them():
    """glanceclient percent-encodes every header value it sends (`reader,member` goes out as
    `reader%2Cmember`). In a deployment these headers come from keystonemiddleware in front of
    the server, which joins roles with plain commas; the server takes them as sent. So the
    tests send them as keystonemiddleware would, and everything else as glanceclient does."""
    from glanceclient.common import http

    if getattr(http.encode_headers, "keeps_identity", False):
        return
    original = http.encode_headers

    def encode_headers(headers):
        encoded = original({k: v for k, v in headers.items() if k not in IDENTITY_HEADERS})
        encoded.update({k: v for k, v in headers.items() if k in IDENTITY_HEADERS and v is not None})
        return encoded
    encode_headers.keeps_identity = True
    http.encode_headers = encode_headers


_identity_headers_as_keystonemiddleware_sets_them()


@pytest.fixture
def project_client(headers_server):
    """glanceclient acting for a project, through keystonemiddleware-style headers."""
    from glanceclient import Client

    def make(project, roles="reader,member"):
        return Client("2", endpoint=headers_server, token="t", identity_headers=identity(project, roles))
    return make


@pytest.fixture
def artifacts(granary):
    """The artifacts API (Glare) root of the session server."""
    return granary.artifacts_url


@pytest.fixture
def glance(server):
    from glanceclient import Client
    return Client("2", endpoint=server, token="anything")


def sdk_wait_active(sdk, image_id, timeout=20):
    """The image once openstacksdk shows it active, or as it is when `timeout` seconds are up."""
    deadline = time.time() + timeout
    while sdk.image.get_image(image_id).status != "active" and time.time() < deadline:
        time.sleep(0.05)
    return sdk.image.get_image(image_id)


@pytest.fixture
def sdk(server):
    import openstack
    return openstack.connect(auth_type="none", auth={"endpoint": server}, image_api_version="2")
