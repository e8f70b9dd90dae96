"""Online maintenance through the server and beside it: GC via the admin API and as a second
process (`granary gc`), fsck on the live store, stats, all while images keep coming."""
import hashlib
import io
import json
import os
import subprocess
import threading
import time

import requests
from glanceclient import Client

from conftest import granary_binary, identity, start_server
import pytest

# Storage tests: they run against every pack store (tools/test runs them on S3 too).
pytestmark = pytest.mark.backend


def upload(glance, data, name):
    image = glance.images.create(name=name, disk_format="raw", container_format="bare")
    glance.images.upload(image["id"], io.BytesIO(data))
    return image["id"]


def wait_idle(url, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = requests.get(f"{url}/admin/gc").json()
        if status["state"] == "idle":
            return status
        time.sleep(0.2)
    raise AssertionError("GC did not finish: " + json.dumps(status))


def test_admin_gc_reclaims_deleted_images_while_uploads_go_on():
    with start_server() as server:
        url = server.url
        glance = Client("2", endpoint=url, token="x")
        shared = os.urandom(3_000_000)
        keep = {}
        for n in range(4):
            body = shared + os.urandom(1_000_000)
            keep[upload(glance, body, f"v{n}")] = hashlib.sha256(body).hexdigest()
        doomed = [upload(glance, os.urandom(2_000_000), f"doomed{n}") for n in range(3)]
        for image in doomed:
            glance.images.delete(image)
        before = requests.get(f"{url}/admin/stats").json()
        assert before["dead_bytes"] >= 6_000_000
        assert set(before) >= {"blobs", "logical_bytes", "stored_bytes", "chunks", "packs", "dead_bytes",
                               "dedup_ratio", "compression_ratio", "pack_details", "last_gc"}

        # Uploads keep going while GC runs.
        stop = threading.Event()
        def uploader():
            n = 0
            while not stop.is_set() and n < 20:
                body = shared + os.urandom(500_000)
                keep[upload(glance, body, f"during{n}")] = hashlib.sha256(body).hexdigest()
                n += 1
        thread = threading.Thread(target=uploader)
        thread.start()
        started = requests.post(f"{url}/admin/gc", json={"grace": 0})
        assert started.status_code == 202, started.text
        assert started.json()["state"] in ("queued", "running")
        # Only one run at a time.
        again = requests.post(f"{url}/admin/gc", json={"grace": 0}, headers={"Accept": "application/json"})
        assert again.status_code in (202, 409)
        status = wait_idle(url)
        stop.set()
        thread.join()
        assert status["last_error"] is None
        reclaimed = status["last"]["reclaimed_bytes"]
        # A pack an upload was appending to during that run is left alone; once uploads stop,
        # another run gets it.
        if reclaimed < 6_000_000:
            assert requests.post(f"{url}/admin/gc", json={"grace": 0}).status_code == 202
            status = wait_idle(url)
            assert status["last_error"] is None
            reclaimed += status["last"]["reclaimed_bytes"]
        assert reclaimed >= 6_000_000, status
        after = requests.get(f"{url}/admin/stats").json()
        assert after["dead_bytes"] < before["dead_bytes"]
        assert after["last_gc"]["chunks_reclaimed"] > 0

        for image, digest in keep.items():
            assert hashlib.sha256(b"".join(glance.images.data(image))).hexdigest() == digest

        # fsck beside the live server: a consistent snapshot, clean.
        fsck = subprocess.run([*server.command("fsck"), "--json"],
                              capture_output=True, text=True, timeout=120)
        report = json.loads(fsck.stdout)
        assert fsck.returncode == 0 and report["ok"] is True, fsck.stdout + fsck.stderr
        assert set(report) == {"ok", "records", "chunks", "errors", "repaired"}
        assert report["records"] >= len(keep)
        # Repair is refused while the server owns the directory.
        refused = subprocess.run([*server.command("fsck"), "--repair"],
                                 capture_output=True, text=True, timeout=120)
        assert refused.returncode == 1 and "stop the server" in refused.stderr


def test_gc_as_a_second_process_beside_the_server():
    with start_server() as server:
        url = server.url
        glance = Client("2", endpoint=url, token="x")
        kept = os.urandom(2_500_000)
        kept_id = upload(glance, kept, "kept")
        gone = upload(glance, os.urandom(2_500_000), "gone")
        glance.images.delete(gone)
        dry = subprocess.run([*server.command("gc"), "--grace", "0", "--dry-run", "--json"],
                             capture_output=True, text=True, timeout=120)
        assert dry.returncode == 0, dry.stderr
        assert set(json.loads(dry.stdout)) == {"reclaimed_bytes", "packs_compacted", "chunks_reclaimed", "seconds", "dry_run"}
        assert json.loads(dry.stdout)["dry_run"] is True
        # The server still has its pack open for appending: a second process leaves it alone,
        # says so, and changes nothing.
        run = subprocess.run([*server.command("gc"), "--grace", "0", "--json"],
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        assert "beside the live process" in run.stderr
        assert hashlib.sha256(b"".join(glance.images.data(kept_id))).digest() == hashlib.sha256(kept).digest()
        bad = subprocess.run([*server.command("gc"), "--grace", "-1"], capture_output=True, text=True)
        assert bad.returncode == 2 and "--grace" in bad.stderr


def test_admin_routes_are_for_admins_only_and_check_their_input():
    with start_server("--auth", "headers") as server:
        url = server.url
        member = identity("p1")
        for method, path in (("get", "/admin/stats"), ("get", "/admin/gc"), ("post", "/admin/gc")):
            r = requests.request(method, url + path, headers={**member, "Accept": "application/json"})
            assert r.status_code == 403, (path, r.status_code, r.text)
        admin = identity("p1", roles="admin")
        r = requests.post(url + "/admin/gc", data=b"{not json", headers={**admin, "Accept": "application/json"})
        assert r.status_code == 400 and "JSON" in r.json()["message"]
        r = requests.post(url + "/admin/gc", json={"grace": -5}, headers={**admin, "Accept": "application/json"})
        assert r.status_code == 400
        assert requests.get(url + "/admin/gc", headers=admin).json()["state"] == "idle"
