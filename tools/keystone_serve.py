"""Serves Keystone's public WSGI app on loopback, threaded (tools/keystone-peer starts it)."""
import socketserver
import sys
from wsgiref.simple_server import WSGIServer, WSGIRequestHandler, make_server

from keystone.server.wsgi import initialize_public_application


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


config, port = sys.argv[1], int(sys.argv[2])
sys.argv = [sys.argv[0], "--config-file", config]
app = initialize_public_application()
make_server("127.0.0.1", port, app, server_class=ThreadingWSGIServer, handler_class=QuietHandler).serve_forever()
