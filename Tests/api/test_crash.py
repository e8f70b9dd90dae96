"""A server killed mid-upload: after restart the image is queued again and nothing is lost."""
import hashlib
import json
import io
import os
import signal
import subprocess
import threading
import time

import pytest
import requests
from glanceclient import Client

from conftest import granary_binary, start_server

pytestmark = [pytest.mark.slow]


def test_sigkill_during_upload_then_restart(tmp_path):
    server = start_server()
    try:
        url = server.url
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
        server.kill()
        thread.join()

        # Restart on the same data directory and port.
        server = start_server(data=server.data, port=server.port)
        assert glance.images.get(victim["id"])["status"] == "queued"
        assert glance.images.get(victim["id"])["size"] is None
        got = b"".join(glance.images.data(kept["id"]))
        assert hashlib.sha256(got).digest() == hashlib.sha256(kept_bytes).digest()
        # The interrupted image takes an upload again.
        glance.images.upload(victim["id"], io.BytesIO(b"second try"))
        assert glance.images.get(victim["id"])["status"] == "active"
    finally:
        server.stop()


def test_sigkill_during_uploads_deletes_and_gc_twenty_times(tmp_path):
    """The server is SIGKILLed at random moments while clients upload, delete and ask for GC
    (grace 0, small packs so compaction has work). After each restart every image whose upload
    was acknowledged (and not deleted) is active and reads back byte for byte; at the end fsck
    is clean and a last GC reclaims the deleted images' space."""
    import random
    from conftest import free_port
    rng = random.Random(7)
    data, port = str(tmp_path), free_port()
    url = f"http://127.0.0.1:{port}"
    config = ["--config", str(tmp_path / "config.json")]
    (tmp_path / "config.json").write_text(json.dumps({"store": {"pack_size": 1 << 20}, "gc": {"interval": 0}}))
    acknowledged = {}   # image id -> sha256 of its data
    deleted = set()
    kills = 0
    server = None
    try:
        for round_ in range(20):
            server = start_server(*config, data=data, port=port)
            glance = Client("2", endpoint=url, token="x")
            for image, digest in acknowledged.items():
                assert glance.images.get(image)["status"] == "active", f"round {round_}: {image} lost its data"
                assert hashlib.sha256(b"".join(glance.images.data(image))).hexdigest() == digest
            stop = threading.Event()

            def client(seed):
                local = random.Random(seed)
                shared = random.Random(1).randbytes(1_500_000)
                while not stop.is_set():
                    try:
                        if acknowledged and local.random() < 0.25:
                            victim = local.choice(sorted(acknowledged))
                            acknowledged.pop(victim, None)
                            deleted.add(victim)
                            glance.images.delete(victim)
                        elif local.random() < 0.2:
                            requests.post(url + "/admin/gc", json={"grace": 0, "threshold": 0.05}, timeout=5)
                        else:
                            body = shared[: local.randrange(1, 1_500_000)] + local.randbytes(local.randrange(0, 800_000))
                            image = glance.images.create(name="crash", disk_format="raw", container_format="bare")
                            glance.images.upload(image["id"], io.BytesIO(body))
                            acknowledged[image["id"]] = hashlib.sha256(body).hexdigest()
                    except Exception:  # the server died under this request
                        return
            threads = [threading.Thread(target=client, args=(round_ * 10 + n,)) for n in range(3)]
            for thread in threads:
                thread.start()
            time.sleep(rng.uniform(0.3, 1.5))
            kills += server.kill() == -signal.SIGKILL
            stop.set()
            for thread in threads:
                thread.join()
        assert kills == 20
        assert len(acknowledged) >= 20, "too few uploads were acknowledged to prove anything"

        server = start_server(*config, data=data, port=port)
        glance = Client("2", endpoint=url, token="x")
        for image, digest in acknowledged.items():
            assert hashlib.sha256(b"".join(glance.images.data(image))).hexdigest() == digest
        assert requests.post(url + "/admin/gc", json={"grace": 0, "threshold": 0.0001}).status_code == 202
        deadline = time.time() + 60
        while requests.get(url + "/admin/gc").json()["state"] != "idle":
            assert time.time() < deadline
            time.sleep(0.2)
        stats = requests.get(url + "/admin/stats").json()
        live = sum(p["live_bytes"] for p in stats["pack_details"])
        assert stats["dead_bytes"] <= live // 20 + (1 << 20), stats  # what is left dead sits in packs still open
        server.stop(remove=False)
        fsck = subprocess.run([*server.command("fsck"), "--json"], capture_output=True, text=True, timeout=300)
        assert fsck.returncode == 0 and json.loads(fsck.stdout)["ok"] is True, fsck.stdout
    finally:
        if server:
            server.stop()
