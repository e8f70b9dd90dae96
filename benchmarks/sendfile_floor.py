#!/usr/bin/env python3
"""The kernel's own cost of sending a cached file over loopback with sendfile: the floor under
any server's download CPU per GB on this machine (benchmarks/compare's download rows).

Usage: benchmarks/sendfile_floor.py FILE [CHUNK_BYTES ...]
Serves FILE three times per chunk size to curl on 127.0.0.1 and prints the server's CPU-seconds
per GB (from getrusage) and curl's speed. Read FILE once first so it is in the page cache.
"""
import os
import resource
import socket
import subprocess
import sys
import threading


def serve(path, chunk, port_box, results):
    size = os.path.getsize(path)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port_box.append(listener.getsockname()[1])
    for _ in range(3):
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % size)
        fd = os.open(path, os.O_RDONLY)
        before = resource.getrusage(resource.RUSAGE_SELF)
        offset = 0
        while offset < size:
            offset += os.sendfile(conn.fileno(), fd, offset, min(chunk, size - offset))
        after = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        results.append(cpu / (size / 1e9))
        os.close(fd)
        conn.close()
    listener.close()


def main():
    path = sys.argv[1]
    for chunk in [int(c) for c in sys.argv[2:]] or [65536, 1 << 20, 16 << 20]:
        port_box, results = [], []
        server = threading.Thread(target=serve, args=(path, chunk, port_box, results))
        server.start()
        while not port_box:
            pass
        speeds = []
        for _ in range(3):
            out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{speed_download}", f"http://127.0.0.1:{port_box[0]}/"],
                                 capture_output=True, text=True, check=True)
            speeds.append(float(out.stdout) / 1e6)
        server.join()
        print(f"chunk {chunk}: server CPU-s per GB {', '.join(f'{r:.3f}' for r in results)}; "
              f"curl MB/s {', '.join(f'{s:,.0f}' for s in speeds)}")


if __name__ == "__main__":
    main()
