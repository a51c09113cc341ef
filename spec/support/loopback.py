"""Shared start-up of the small loopback test servers (spec/support/*_server.py).

Layer: test support. `serve(handler, port, port_file)` binds 127.0.0.1 (port 0
picks a free one), writes the port to port_file through a temp file and a
rename (so a reader never sees a partial number), exits cleanly on SIGTERM,
and serves until then with one daemon thread per connection.
"""

import os
import signal
import socket
import sys
import threading
import time
from http.server import ThreadingHTTPServer


def serve(handler, port, port_file):
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, port_file)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()


def serve_raw(handle, port, port_file, stop, wrap=None):
    """Raw sockets, for the servers that choose every byte they send: binds
    127.0.0.1, writes the port like `serve`, runs handle(conn) (conn first
    through wrap, e.g. a TLS wrap, when given) in a daemon thread per
    connection and closes conn after it, and returns once SIGTERM or SIGINT
    set the threading.Event stop (the connection threads watch it too)."""

    def serve_one(conn):
        try:
            if wrap is not None:
                conn = wrap(conn)
            conn.settimeout(None)
            handle(conn)
        except (OSError, ValueError):
            pass  # the client hung up, refused our certificate, or sent garbage
        finally:
            try:
                conn.close()
            except OSError:
                pass

    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", port))
    lsock.listen(64)
    lsock.settimeout(0.2)
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(lsock.getsockname()[1]))
    os.replace(tmp, port_file)
    while not stop.is_set():
        try:
            conn, _ = lsock.accept()
        except socket.timeout:
            continue
        except OSError:
            break
        threading.Thread(target=serve_one, args=(conn,), daemon=True).start()
    lsock.close()
    # give the connection threads a moment to notice stop
    time.sleep(0.1)
