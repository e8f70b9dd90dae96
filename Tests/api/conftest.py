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


def granary_binary():
    for candidate in (ROOT / ".build" / "debug" / "granary", ROOT / ".build" / "release" / "granary"):
        if candidate.exists():
            return str(candidate)
    raise RuntimeError("build granary first (swift build)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server():
    data = tempfile.mkdtemp(prefix="granary-pytest-")
    port = free_port()
    log = open(os.path.join(data, "serve.log"), "w")
    proc = subprocess.Popen(
        [granary_binary(), "serve", "--data", os.path.join(data, "store"), "--port", str(port), "--log-level", "warning"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/versions", timeout=1).read()
            break
        except Exception:
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("granary serve did not start: " + open(os.path.join(data, "serve.log")).read())
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(timeout=20)
    log.close()
    shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def glance(server):
    from glanceclient import Client
    return Client("2", endpoint=server, token="anything")


@pytest.fixture
def sdk(server):
    import openstack
    return openstack.connect(auth_type="none", auth={"endpoint": server}, image_api_version="2")
