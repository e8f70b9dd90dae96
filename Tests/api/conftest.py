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
    for candidate in (ROOT / ".build" / "debug" / "granary", ROOT / ".build" / "release" / "granary"):
        if candidate.exists():
            return str(candidate)
    raise RuntimeError("build granary first (swift build)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The artifacts API's address of each server started, by its images URL.
ARTIFACTS = {}


def start_server(*extra, env=None, data=None, port=None):
    """Starts `granary serve` (on `data`, a directory an earlier server used, if given); its
    artifacts listener gets a free port too (see ARTIFACTS)."""
    data = data or tempfile.mkdtemp(prefix="granary-pytest-")
    port = port or free_port()
    artifacts_port = free_port()
    log = open(os.path.join(data, "serve.log"), "a")
    proc = subprocess.Popen(
        [granary_binary(), "serve", "--data", os.path.join(data, "store"), "--port", str(port),
         "--artifacts-port", str(artifacts_port), "--log-level", "warning", *extra],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
    )
    url = f"http://127.0.0.1:{port}"
    ARTIFACTS[url] = f"http://127.0.0.1:{artifacts_port}"
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/versions", timeout=1).read()
            break
        except Exception:
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("granary serve did not start: " + open(os.path.join(data, "serve.log")).read())
            time.sleep(0.1)
    return url, proc, log, data


def stop_server(proc, log, data):
    proc.terminate()
    assert proc.wait(timeout=20) == 0, "granary serve did not shut down cleanly on SIGTERM"
    log.close()
    shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="session")
def server():
    url, proc, log, data = start_server()
    yield url
    stop_server(proc, log, data)


@pytest.fixture(scope="session")
def headers_server():
    """A server in `--auth headers` mode: callers are who the X-* headers say."""
    url, proc, log, data = start_server("--auth", "headers")
    yield url
    stop_server(proc, log, data)


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
def artifacts(server):
    """The artifacts API (Glare) root of the session server."""
    return ARTIFACTS[server]


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
