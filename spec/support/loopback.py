"""Shared start-up of the small loopback test servers (spec/support/*_server.py).

Layer: test support. `serve(handler, port, port_file)` binds 127.0.0.1 (port 0
picks a free one), writes the port to port_file through a temp file and a
rename (so a reader never sees a partial number), exits cleanly on SIGTERM,
and serves until then with one daemon thread per connection.
"""

import os
import signal
import sys
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
