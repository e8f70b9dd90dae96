"""Downloads, verified and unverified, from packs written with O_DIRECT and through the page cache.

Verified downloads read cold groups into memory and check groups already in the page cache
there, then send them with `sendfile`; unverified ones send raw chunks with `sendfile` unread.
Every mode must give the same bytes, on the first and later reads, for whole blobs and ranges
over every kind of chunk: raw (random data), zstd-compressed (text) and all-zero; none may leak
descriptors, a client that goes away mid-download leaves the server serving, and a damaged
chunk is never sent.
"""
import hashlib
import http.client
import json
import mmap
import os
import random
import socket
import subprocess
import time
import urllib.parse

import pytest

from conftest import granary_binary, start_server

# Storage tests: they run against every pack store (tools/test runs them on S3 too).
pytestmark = pytest.mark.backend


def mixed_content():
    rnd = random.Random(7)
    parts = [
        rnd.randbytes(3_000_000),
        (b"granary keeps the bytes it is given, line after line. " * 60_000),
        bytes(2_000_000),
        rnd.randbytes(1_500_000),
        bytes(100_000),
        b"tail",
    ]
    return b"".join(parts)


def call(url, method, path, body=None, headers=None):
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp, data


def open_descriptors(proc):
    return len(os.listdir(f"/proc/{proc.pid}/fd"))


@pytest.fixture(params=["verified", "verified-buffered-packs", "verified-direct-cold-reads", "zero-copy",
                        "zero-copy-buffered-packs", "zero-copy-direct-cold-reads"], scope="module")
def served(request):
    env = {"GRANARY_STORE_VERIFY_READS": "true" if request.param.startswith("verified") else "false",
           "GRANARY_STORE_PACK_WRITES": "buffered" if request.param.endswith("buffered-packs") else "direct",
           "GRANARY_STORE_COLD_READS": "direct" if request.param.endswith("direct-cold-reads") else "cached"}
    with start_server(env=env) as server:
        url = server.url
        content = mixed_content()
        resp, body = call(url, "POST", "/v2/images", json.dumps({"name": "mixed", "disk_format": "raw", "container_format": "bare"}),
                             {"Content-Type": "application/json"})
        assert resp.status == 201
        image = json.loads(body)["id"]
        resp, _ = call(url, "PUT", f"/v2/images/{image}/file", content, {"Content-Type": "application/octet-stream"})
        assert resp.status == 204
        yield server, image, content


def test_whole_download_is_byte_exact(served):
    server, image, content = served
    url = server.url
    for _ in range(2):  # O_DIRECT packs are cold at first, then in the page cache
        resp, body = call(url, "GET", f"/v2/images/{image}/file")
        assert resp.status == 200
        assert int(resp.getheader("Content-Length")) == len(content)
        assert hashlib.sha256(body).hexdigest() == hashlib.sha256(content).hexdigest()


def damage_byte(path, offset, direct):
    """Flips one bit at `offset`: through the page cache (the cached copy holds the damage), or
    with O_DIRECT (the disk does, and the kernel drops the cached pages of that block)."""
    if not direct:
        with open(path, "r+b") as f:
            f.seek(offset)
            byte = f.read(1)
            f.seek(offset)
            f.write(bytes([byte[0] ^ 0x40]))
        return
    block = offset // 4096 * 4096
    buffer = mmap.mmap(-1, 4096)  # page aligned, as O_DIRECT wants
    fd = os.open(path, os.O_RDWR | os.O_DIRECT)
    try:
        assert os.preadv(fd, [buffer], block) == 4096
        buffer[offset - block] ^= 0x40
        assert os.pwritev(fd, [buffer], block) == 4096
    finally:
        os.close(fd)


@pytest.mark.parametrize("packs,cold_reads", [("direct", "cached"), ("buffered", "cached"), ("direct", "direct")])
def test_a_damaged_chunk_is_never_sent(packs, cold_reads):
    """Cached groups are checked in the page cache, cold ones after an O_DIRECT read."""
    with start_server(env={"GRANARY_STORE_VERIFY_READS": "true", "GRANARY_STORE_PACK_WRITES": packs,
                           "GRANARY_STORE_COLD_READS": cold_reads}) as server:
        url = server.url
        content = random.Random(11).randbytes(6_000_000)
        resp, body = call(url, "POST", "/v2/images", json.dumps({"name": "d", "disk_format": "raw", "container_format": "bare"}),
                          {"Content-Type": "application/json"})
        image = json.loads(body)["id"]
        resp, _ = call(url, "PUT", f"/v2/images/{image}/file", content, {"Content-Type": "application/octet-stream"})
        assert resp.status == 204
        resp, body = call(url, "GET", f"/v2/images/{image}/file")
        assert body == content  # with cached cold reads, the pack is in the page cache now
        pack = server.pack_files()[0]
        damage_byte(pack, 4_000_000, direct=cold_reads == "direct")
        server.damaged = True
        parts = urllib.parse.urlsplit(url)
        s = socket.create_connection((parts.hostname, parts.port), timeout=30)
        s.sendall(f"GET /v2/images/{image}/file HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        received = b""
        while len(received) < len(content) and (chunk := s.recv(1 << 20)):  # the server closes when it stops
            received += chunk
        s.close()
        head, _, body = received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200")
        assert len(body) < len(content), "the download must stop before the damaged chunk"
        assert body == content[:len(body)], "every byte sent is the original"
        assert server.alive()
        assert "fails its checksum" in server.log_text()


@pytest.mark.parametrize("start,end", [
    (0, 0), (1, 65_536), (2_999_990, 3_000_020), (3_100_000, 3_200_000),  # raw, raw across chunks, raw into text, text
    (6_300_000, 6_400_000), (5_000_000, 7_000_000),  # zeros, text through zeros into random
    (len(mixed_content()) - 10, len(mixed_content()) - 1),
])
def test_ranges_are_byte_exact(served, start, end):
    server, image, content = served
    url = server.url
    resp, body = call(url, "GET", f"/v2/images/{image}/file", headers={"Range": f"bytes={start}-{end}"})
    assert resp.status == 206
    assert resp.getheader("Content-Range") == f"bytes {start}-{end}/{len(content)}"
    assert body == content[start:end + 1]


def test_no_descriptor_leak_and_survives_cut_off_clients(served):
    server, image, content = served
    url, proc = server.url, server.proc
    call(url, "GET", f"/v2/images/{image}/file")  # pack descriptors are cached from here on
    before = open_descriptors(proc)
    parts = urllib.parse.urlsplit(url)
    for _ in range(5):
        s = socket.create_connection((parts.hostname, parts.port))
        s.sendall(f"GET /v2/images/{image}/file HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        s.recv(65536)  # take a little, then hang up mid-body
        s.close()
    for _ in range(10):
        resp, body = call(url, "GET", f"/v2/images/{image}/file")
        assert resp.status == 200 and body == content
    deadline = time.time() + 5
    while open_descriptors(proc) > before and time.time() < deadline:
        time.sleep(0.1)
    assert open_descriptors(proc) <= before


def test_artifact_blob_download(served):
    server, _, content = served
    art = server.artifacts_url
    resp, body = call(art, "POST", "/artifacts/sample_artifact", json.dumps({"name": "dl", "version": "1.0"}),
                         {"Content-Type": "application/json"})
    assert resp.status == 201, body
    artifact = json.loads(body)["id"]
    resp, body = call(art, "PUT", f"/artifacts/sample_artifact/{artifact}/blob", content[:4_000_000],
                         {"Content-Type": "application/octet-stream"})
    assert resp.status == 200, body
    resp, body = call(art, "GET", f"/artifacts/sample_artifact/{artifact}/blob")
    assert resp.status == 200 and body == content[:4_000_000]
    resp, body = call(art, "GET", f"/artifacts/sample_artifact/{artifact}/blob", headers={"Range": "bytes=2999000-3000999"})
    assert resp.status == 206 and body == content[2_999_000:3_001_000]


def test_a_bad_cold_reads_value_is_refused(tmp_path):
    run = subprocess.run([granary_binary(), "serve", "--data", str(tmp_path / "store"), "--port", "0"],
                         env={**os.environ, "GRANARY_STORE_COLD_READS": "sometimes"}, capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    assert "store.cold_reads must be cached or direct, not 'sometimes'" in run.stderr
    assert not (tmp_path / "store").exists()
