"""Packs in OpenStack Swift when the store fails: unreachable at upload (503 in Glance's format,
nothing referenced), its proxy killed mid-upload, mid-download and mid-GC (clear errors, no
corruption, GC completes once it is back), and the objects a failed upload left swept once old.
Each test runs its own proxy (tools/swift-peer proxy PORT) in front of the all-in-one's storage
servers, so killing it disturbs no other test."""
import hashlib
import io
import json
import os
import pathlib
import random
import subprocess
import threading
import time
import urllib.request

import pytest
import requests
from glanceclient import Client

from conftest import ROOT, free_port, granary_binary, start_server, swift_peer_env
from test_maintenance import wait_idle

pytestmark = pytest.mark.slow


class Proxy:
    """A Swift proxy of the all-in-one on `port`, killed and started again at will."""

    def __init__(self, port):
        swift_peer_env()  # the storage servers first
        self.port, self.proc = port, None
        self.start()

    def start(self):
        self.proc = subprocess.Popen([str(ROOT / "tools" / "swift-peer"), "proxy", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthcheck", timeout=1).read()
                return
            except Exception:
                assert self.proc.poll() is None and time.time() < deadline, "the proxy did not start"
                time.sleep(0.2)

    def kill(self):
        self.proc.kill()
        self.proc.wait()

    @property
    def auth_url(self):
        return f"http://127.0.0.1:{self.port}/auth/v1.0"


def swift_config(tmp_path, auth_url, container, **extra):
    config = {"stores": {"remote": {"url": f"swift://{container}", "auth_url": auth_url, "user": "test:tester",
                                    "key": "testing", "timeout": 4}},
              "default_store": "remote", **extra}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return ["--config", str(path)]


def container_objects(auth_url, container):
    """Every object of the store's 16 containers, through the Swift API."""
    auth = requests.get(auth_url, headers={"X-Auth-User": "test:tester", "X-Auth-Key": "testing"})
    storage, token = auth.headers["X-Storage-Url"], auth.headers["X-Auth-Token"]
    names = []
    for n in range(16):
        listing = requests.get(f"{storage}/{container}_{n:02d}?format=json", headers={"X-Auth-Token": token})
        if listing.status_code == 200:
            names += [entry["name"] for entry in listing.json()]
    return names


def create(glance, name="img"):
    return glance.images.create(name=name, disk_format="raw", container_format="bare")["id"]


@pytest.mark.parametrize("config,message", [
    ({"stores": {"a": {"url": "ftp://x"}}}, "stores.a.url: store url ftp://x: unknown scheme"),
    ({"stores": {"a": {"url": "swift://c"}}}, "stores.a.auth_url is required"),
    ({"stores": {"a": {"url": "s3+http://127.0.0.1:1/b", "user": "u", "key": "k"}}, "default_store": "z"},
     "default_store z is not one of the configured stores"),
    ({"stores": {"a": {"url": "file:///tmp/a"}, "b": {"url": "file:///tmp/b"}}, "default_store": "a"}, "only one file:// store"),
    ({"stores": {"a b": {"url": "swift://c"}}}, "store id 'a b'"),
])
def test_a_bad_store_configuration_stops_the_server_with_a_clear_error(tmp_path, config, message):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    run = subprocess.run([granary_binary(), "serve", "--data", str(tmp_path / "data"), "--port", "0", "--artifacts-port", "0",
                          "--config", str(path)], capture_output=True, text=True, timeout=60)
    assert run.returncode != 0 and message in run.stderr, run.stderr


def test_an_unreachable_store_answers_503_in_glances_format(tmp_path):
    config = swift_config(tmp_path, f"http://127.0.0.1:{free_port()}/auth/v1.0", "granary-down")
    with start_server(*config) as server:
        glance = Client("2", endpoint=server.url, token="x")
        image = create(glance)
        r = requests.put(f"{server.url}/v2/images/{image}/file", data=os.urandom(3_000_000),
                         headers={"Content-Type": "application/octet-stream", "Accept": "application/json"})
        assert r.status_code == 503, r.text
        error = r.json()
        assert error["code"] == "503 Service Unavailable" and error["title"] == "Service Unavailable" and "unavailable" in error["message"], error
        assert glance.images.get(image)["status"] == "queued"
        stats = requests.get(f"{server.url}/admin/stats").json()
        assert stats["blobs"] == 0 and stats["packs"] == 0, stats
        # The image takes an upload again once the caller retries (here: still down, same answer).
        r = requests.put(f"{server.url}/v2/images/{image}/file", data=b"x" * 1000, headers={"Content-Type": "application/octet-stream"})
        assert r.status_code == 503


def test_the_proxy_killed_mid_upload_download_and_gc(tmp_path):
    proxy = Proxy(free_port())
    container = "granary-kill-" + os.urandom(4).hex()
    # No node cache (every read is a GET), 1 MiB packs, GC copying at 1 MB/s so that it runs a
    # while, retired and orphan objects removed at the next run.
    config = swift_config(tmp_path, proxy.auth_url, container, store={"pack_size": 1 << 20},
                          cache={"max_bytes": 0}, gc={"interval": 0, "throttle_mbps": 1, "retire_delay": 0, "orphan_age": 3})
    try:
        with start_server(*config) as server:
            url = server.url
            glance = Client("2", endpoint=url, token="x")

            # Mid-upload: the proxy dies while the body streams in; the upload fails with 503,
            # nothing is referenced, the image can be uploaded again.
            victim = create(glance, "victim")
            rng = random.Random(5)

            def body():
                for n in range(24):
                    if n == 8:
                        proxy.kill()
                    yield rng.randbytes(500_000)
                    time.sleep(0.05)
            r = requests.put(f"{url}/v2/images/{victim}/file", data=body(), headers={"Content-Type": "application/octet-stream"})
            assert r.status_code == 503, r.text
            assert glance.images.get(victim)["status"] == "queued"
            proxy.start()
            kept = rng.randbytes(6_000_000)
            glance.images.upload(victim, io.BytesIO(kept))
            assert glance.images.get(victim)["status"] == "active"

            # Mid-download: the response is cut (the status was sent) and logged; the server
            # lives on, and once the proxy is back the same download is whole.
            with requests.get(f"{url}/v2/images/{victim}/file", stream=True) as r:
                assert r.status_code == 200
                stream = r.raw
                first = stream.read(1_000_000)
                proxy.kill()
                rest = b""
                with pytest.raises(Exception):
                    while piece := stream.read(1 << 20):
                        rest += piece
                    raise AssertionError("the download went on with the store gone")
                assert first + rest == kept[:len(first) + len(rest)]
            assert server.alive()
            assert "download stopped after the status was sent" in server.log_text()
            proxy.start()
            try:
                assert b"".join(glance.images.data(victim)) == kept
            except Exception as error:
                raise AssertionError(server.log_text()[-3000:]) from error

            # Mid-GC: half of every pack dies; GC, copying slowly, loses the store halfway and
            # reports it; once the proxy is back a run completes and the data is intact.
            half = b"".join(kept[i:i + 250_000] for i in range(0, len(kept), 500_000))
            other = create(glance, "half")
            glance.images.upload(other, io.BytesIO(half))
            glance.images.delete(victim)
            assert requests.post(f"{url}/admin/gc", json={"grace": 0}).status_code == 202
            time.sleep(1.0)
            proxy.kill()
            status = wait_idle(url)
            assert status["last_error"] is not None and "could not be reached" in status["last_error"], status
            proxy.start()
            assert requests.post(f"{url}/admin/gc", json={"grace": 0}).status_code == 202
            status = wait_idle(url, timeout=120)
            assert status["last_error"] is None and status["last"]["packs_compacted"] > 0, status
            assert hashlib.sha256(b"".join(glance.images.data(other))).digest() == hashlib.sha256(half).digest()
            # Every object left is a pack the index holds; fsck (at stop) checks each one's size.
            stats = requests.get(f"{url}/admin/stats").json()
            objects = container_objects(proxy.auth_url, container)
            assert sorted(name.split("/")[-1] for name in objects) == sorted(p["pack"] for p in stats["pack_details"]), (objects, stats)
            scrub = subprocess.run([*server.command("fsck"), "--scrub", "--json"], capture_output=True, text=True, timeout=120)
            assert scrub.returncode == 0 and json.loads(scrub.stdout)["ok"], scrub.stdout + scrub.stderr
    finally:
        proxy.kill()



def test_sigkill_mid_upload_twenty_times_loses_nothing_and_orphans_are_swept(tmp_path):
    """`granary serve` SIGKILLed at random moments while clients upload to Swift, 20 rounds:
    every acknowledged image reads back, fsck finds no row pointing at a missing object, and
    once gc.orphan_age has passed GC sweeps the packs the killed uploads had sent: every object
    left in the containers is a pack the index holds."""
    env = swift_peer_env()
    container = "granary-crash-" + os.urandom(4).hex()
    config = swift_config(tmp_path, env["SWIFT_PEER_AUTH_URL"], container, store={"pack_size": 1 << 20},
                          gc={"interval": 0, "orphan_age": 2})
    data, port = str(tmp_path / "data"), free_port()
    os.makedirs(data)
    rng = random.Random(9)
    acknowledged = {}
    server = None
    try:
        for round_ in range(20):
            server = start_server(*config, data=data, port=port)
            glance = Client("2", endpoint=server.url, token="x")
            stop = threading.Event()

            def client(seed):
                local = random.Random(seed)
                while not stop.is_set():
                    try:
                        body = local.randbytes(local.randrange(500_000, 3_000_000))
                        image = create(glance, "crash")
                        glance.images.upload(image, io.BytesIO(body))
                        acknowledged[image] = hashlib.sha256(body).hexdigest()
                    except Exception:  # the server died under this request
                        return
            threads = [threading.Thread(target=client, args=(round_ * 10 + n,)) for n in range(3)]
            for thread in threads:
                thread.start()
            time.sleep(rng.uniform(0.5, 1.5))
            server.kill()
            stop.set()
            for thread in threads:
                thread.join()
        server = start_server(*config, data=data, port=port)
        glance = Client("2", endpoint=server.url, token="x")
        assert len(acknowledged) >= 10, "too few uploads were acknowledged to prove anything"
        for image, digest in acknowledged.items():
            assert hashlib.sha256(b"".join(glance.images.data(image))).hexdigest() == digest, image
        fsck = server.fsck()
        assert fsck.returncode == 0 and json.loads(fsck.stdout)["ok"], fsck.stdout + fsck.stderr
        time.sleep(2.5)
        assert requests.post(f"{server.url}/admin/gc", json={"grace": 0}).status_code == 202
        status = wait_idle(server.url, timeout=120)
        assert status["last_error"] is None and not status["last"]["errors"], status
        stats = requests.get(f"{server.url}/admin/stats").json()
        objects = container_objects(env["SWIFT_PEER_AUTH_URL"], container)
        assert sorted(name.split("/")[-1] for name in objects) == sorted(p["pack"] for p in stats["pack_details"])
        print(f"acknowledged {len(acknowledged)}, orphans swept {status['last']['orphan_objects_removed']}")
    finally:
        if server:
            server.stop()
