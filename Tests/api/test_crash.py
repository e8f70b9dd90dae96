"""A server killed mid-upload: after restart the image is queued again and nothing is lost."""
import hashlib
import io
import os
import signal
import threading
import time

import requests
from glanceclient import Client

from conftest import start_server, stop_server, granary_binary
import subprocess


def test_sigkill_during_upload_then_restart(tmp_path):
    url, proc, log, data = start_server()
    glance = Client("2", endpoint=url, token="x")
    kept_bytes = os.urandom(2_000_000)
    kept = glance.images.create(name="kept", disk_format="raw", container_format="bare")
    glance.images.upload(kept["id"], io.BytesIO(kept_bytes))
    victim = glance.images.create(name="victim", disk_format="raw", container_format="bare")

    def slow_body():
        for _ in range(200):
            yield os.urandom(256 * 1024)
            time.sleep(0.01)

    errors = []
    def upload():
        try:
            requests.put(f"{url}/v2/images/{victim['id']}/file", data=slow_body(),
                         headers={"Content-Type": "application/octet-stream"}, timeout=30)
        except Exception as error:  # the server dies under it
            errors.append(error)
    thread = threading.Thread(target=upload)
    thread.start()
    time.sleep(0.5)
    assert glance.images.get(victim["id"])["status"] == "saving"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    thread.join()

    # Restart on the same data directory.
    store = os.path.join(data, "store")
    port = int(url.rsplit(":", 1)[1])
    proc = subprocess.Popen([granary_binary(), "serve", "--data", store, "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 30
    while True:
        try:
            requests.get(url + "/versions", timeout=1)
            break
        except Exception:
            assert time.time() < deadline and proc.poll() is None
            time.sleep(0.1)
    assert glance.images.get(victim["id"])["status"] == "queued"
    assert glance.images.get(victim["id"])["size"] is None
    got = b"".join(glance.images.data(kept["id"]))
    assert hashlib.sha256(got).digest() == hashlib.sha256(kept_bytes).digest()
    # The interrupted image takes an upload again.
    glance.images.upload(victim["id"], io.BytesIO(b"second try"))
    assert glance.images.get(victim["id"])["status"] == "active"
    stop_server(proc, log, data)
