"""Starts a real `granary serve` on a free loopback port for the API tests, its packs in the
store GRANARY_TEST_BACKEND names (local, the default; swift; s3: tools/swift-peer's all-in-one)."""
import json
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
    config.addinivalue_line("markers", "backend: a storage test (upload, ranged download, delete, GC, fsck) run against every pack store")


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


BACKEND = os.environ.get("GRANARY_TEST_BACKEND", "local")


def pytest_report_header(config):
    return f"granary pack store: {BACKEND} (GRANARY_TEST_BACKEND: local, swift or s3)"


_peer_env = None


def swift_peer_env():
    """The settings of tools/swift-peer's OpenStack Swift all-in-one, started once per session."""
    global _peer_env
    if _peer_env is None:
        subprocess.run([str(ROOT / "tools" / "swift-peer"), "start"], check=True, capture_output=True, timeout=300)
        out = subprocess.run([str(ROOT / "tools" / "swift-peer"), "env"], check=True, capture_output=True, text=True).stdout
        _peer_env = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    return _peer_env


def backend_config():
    """The `stores` settings that put a new server's packs in the backend under test: a
    container or bucket of its own on the Swift all-in-one (tempauth, or its S3 API)."""
    if BACKEND == "local":
        return {}
    env = swift_peer_env()
    name = "granary-pytest-" + os.urandom(4).hex()
    if BACKEND == "swift":
        store = {"url": "swift://" + name, "auth_url": env["SWIFT_PEER_AUTH_URL"], "user": "test:tester", "key": "testing"}
    elif BACKEND == "s3":
        store = {"url": "s3+" + env["SWIFT_PEER_S3_URL"] + "/" + name, "user": "test:tester", "key": "testing",
                 "region": env.get("SWIFT_PEER_S3_REGION", "us-east-1")}
    else:
        raise RuntimeError(f"GRANARY_TEST_BACKEND={BACKEND}: use local, swift or s3")
    return {"stores": {"remote": store}, "default_store": "remote"}


def with_backend(extra, data):
    """`extra` with the backend's stores merged into its --config (a file of its own in `data`)."""
    stores = backend_config()
    if not stores:
        return list(extra)
    extra = list(extra)
    config = {}
    if "--config" in extra:
        at = extra.index("--config")
        with open(extra[at + 1]) as f:
            config = json.load(f)
        if "stores" in config:  # a test that configures its own stores keeps them
            return extra
        del extra[at:at + 2]
    path = os.path.join(data, "backend-config.json")
    if os.path.exists(path):  # a restart on the same data keeps its container
        with open(path) as f:
            stores = {key: value for key, value in json.load(f).items() if key in ("stores", "default_store")}
    with open(path, "w") as f:
        json.dump({**config, **stores}, f)
    return extra + ["--config", path]


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
        extra = with_backend(extra, self.data)
        self.config = extra[extra.index("--config") + 1] if "--config" in extra else None
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

    def command(self, name):
        """The command line of `granary NAME` on this server's store (and its pack stores)."""
        return [granary_binary(), name, "--data", self.store, *(["--config", self.config] if self.config else [])]

    def pack_files(self):
        """The files a read of this server's packs reads, sorted: the local packs, or, with an
        object store, the node cache's copies (written through at upload)."""
        folder = os.path.join(self.store, "packs") if BACKEND == "local" else os.path.join(self.store, "cache", "packs-remote")
        return [os.path.join(folder, name) for name in sorted(os.listdir(folder)) if name.endswith(".pack")]

    def fsck(self):
        """`granary fsck --json` of the store (the server may still run: fsck reads a snapshot)."""
        return subprocess.run([*self.command("fsck"), "--json"], capture_output=True, text=True, timeout=300)

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
