"""Lifecycle: SIGTERM lets an in-flight upload finish before the server exits; request logs carry
the request id."""
import hashlib
import os
import signal
import threading
import time

import requests

from conftest import start_server


def test_sigterm_lets_an_in_flight_upload_finish():
    server = start_server("--log-level", "info")
    try:
        url = server.url
        image_id = requests.post(f"{url}/v2/images", json={"name": "t", "disk_format": "raw", "container_format": "bare"}).json()["id"]
        pieces = [os.urandom(1 << 16) for _ in range(60)]
        sent = threading.Event()
        result = {}

        def body():
            for i, piece in enumerate(pieces):
                if i == 5:
                    sent.set()
                yield piece
                time.sleep(0.02)

        def upload():
            result["status"] = requests.put(f"{url}/v2/images/{image_id}/file", data=body(),
                                            headers={"Content-Type": "application/octet-stream"}, timeout=60).status_code

        thread = threading.Thread(target=upload)
        thread.start()
        assert sent.wait(10)
        server.proc.send_signal(signal.SIGTERM)
        thread.join(60)
        assert result.get("status") == 204
        assert server.proc.wait(timeout=20) == 0
        server.stop(remove=False)
        lines = server.log_text()
        assert f"PUT /v2/images/{image_id}/file 204" in lines
        assert "request_id=req-" in lines

        server = start_server(data=server.data)
        image = requests.get(f"{server.url}/v2/images/{image_id}").json()
        assert image["status"] == "active"
        assert image["os_hash_value"] == hashlib.sha512(b"".join(pieces)).hexdigest()
    finally:
        server.stop()
