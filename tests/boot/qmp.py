#!/usr/bin/env python3
"""A QMP client for the boot tests: runs commands on a QEMU's QMP socket.

  qmp.py SOCKET COMMAND[=JSON-ARGUMENTS]...

Each COMMAND runs in turn (after qmp_capabilities), waiting for its
"return"; an "error" reply, or no reply within 120 s, exits 1. Examples:
  qmp.py run/qmp.sock stop 'dump-guest-memory={"paging":false,"protocol":"file:/tmp/m"}' quit
"""
import json
import socket
import sys


def send(sock, reader, command, arguments=None):
    msg = {"execute": command}
    if arguments is not None:
        msg["arguments"] = arguments
    sock.sendall(json.dumps(msg).encode() + b"\r\n")
    while True:
        line = reader.readline()
        if not line:
            if command == "quit":
                return {}
            sys.exit(f"qmp.py: QEMU closed the socket before answering {command}")
        reply = json.loads(line)
        if "return" in reply:
            return reply["return"]
        if "error" in reply:
            sys.exit(f"qmp.py: {command}: {reply['error'].get('desc', reply['error'])}")
        # events (STOP, RESUME, DUMP_COMPLETED...) are not answers


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(120)
    sock.connect(argv[1])
    reader = sock.makefile("r")
    json.loads(reader.readline())  # the greeting
    send(sock, reader, "qmp_capabilities")
    for item in argv[2:]:
        command, _, args = item.partition("=")
        send(sock, reader, command, json.loads(args) if args else None)


if __name__ == "__main__":
    main(sys.argv)
