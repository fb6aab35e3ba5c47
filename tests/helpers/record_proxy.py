#!/usr/bin/env python3
"""A TCP proxy that records every byte a client sends: tests/test_serve.sh routes ensi query
through it to assert on the bytes that leave the client (the secret key must never be among them).
usage: record_proxy.py TARGET_PORT CAPTURE_FILE PORT_FILE  (listens on a free loopback port,
written to PORT_FILE)"""
import socket
import sys
import threading

target_port, capture_path, port_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
lock = threading.Lock()


def pump(source, sink, record):
    try:
        while True:
            data = source.recv(1 << 16)
            if not data:
                break
            if record:
                with lock, open(capture_path, "ab") as f:
                    f.write(data)
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(client):
    upstream = socket.create_connection(("127.0.0.1", target_port))
    threading.Thread(target=pump, args=(client, upstream, True), daemon=True).start()
    threading.Thread(target=pump, args=(upstream, client, False), daemon=True).start()


listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(16)
with open(port_path, "w") as f:
    f.write(str(listener.getsockname()[1]))
while True:
    connection, _ = listener.accept()
    serve(connection)
