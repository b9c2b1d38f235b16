#!/usr/bin/env python3
"""A QMP peer that lies or hangs, for tests/secret/test-launch.sh:

  fake-qmp.py SOCKET HOW LOG [TIK FIRMWARE]

serves one connection on SOCKET the way HOW says, and writes each
command it receives to LOG (one name a line). HOW:
  hang-greeting   accepts, says nothing
  not-qmp         a greeting without "QMP"
  hang-sev        answers qmp_capabilities, never query-sev
  wrong-id        answers query-sev with another id
  garbage         answers query-sev with a line that is not JSON
  huge            answers query-sev with a line of 100 KiB and no end
  not-enabled     query-sev: enabled false
  running         query-sev: state running (already continued)
  snp             query-sev: sev-type sev-snp (QEMU 9.1's union)
  policy-string   query-sev: policy "3"
  short-blob      query-sev-launch-measure: 47 bytes
  error-sev       query-sev: an error reply (SEV not supported)
  events          events, endlessly, instead of an answer to query-sev
  refuse-inject   a true measurement of an SEV launch of FIRMWARE alone
                  (MAC with TIK), then an error for sev-inject-launch-secret
  hang-inject     the same, then no answer to sev-inject-launch-secret
"""
import base64
import hashlib
import hmac
import struct
import json
import os
import socket
import sys
import time

path, how, log = sys.argv[1:4]


def true_blob():
    """What the PSP would say for policy 3, API 1.55 build 21, SEV, no kernel."""
    tik = open(sys.argv[4], "rb").read()
    digest = hashlib.sha256(open(sys.argv[5], "rb").read()).digest()
    nonce = os.urandom(16)
    mac = hmac.new(tik, bytes([4, 1, 55, 21]) + struct.pack("<I", 3) + digest + nonce,
                   hashlib.sha256).digest()
    return base64.b64encode(mac + nonce).decode()


SEV = {"enabled": True, "api-major": 1, "api-minor": 55, "build-id": 21, "policy": 3,
       "state": "launch-secret", "handle": 1}
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
open(path + ".ready", "w").close()
conn, _ = srv.accept()
out = open(log, "a", buffering=1)


def send(obj):
    try:
        conn.sendall(json.dumps(obj).encode() + b"\r\n")
    except BrokenPipeError:  # launch gave up on us: that is what is tested
        sys.exit(0)


if how == "hang-greeting":
    time.sleep(30)
    sys.exit(0)
send({"greeting": {}} if how == "not-qmp" else {"QMP": {"version": {}, "capabilities": []}})
for line in conn.makefile("r"):
    msg = json.loads(line)
    cmd, mid = msg["execute"], msg.get("id")
    out.write(cmd + "\n")
    if cmd == "qmp_capabilities":
        if how == "hang-sev":
            send({"return": {}, "id": mid})
            time.sleep(30)
            break
        send({"return": {}, "id": mid})
    elif cmd == "query-sev":
        ret = dict(SEV)
        if how == "wrong-id":
            mid = (mid or 0) + 7
        elif how == "garbage":
            conn.sendall(b"this is not json\r\n")
            continue
        elif how == "huge":
            conn.sendall(b"x" * 100 * 1024)
            time.sleep(30)
            break
        elif how == "events":
            for _ in range(400):
                send({"event": "RTC_CHANGE", "data": {"offset": 0}})
                time.sleep(0.01)
            time.sleep(30)
            break
        elif how == "error-sev":
            send({"error": {"class": "GenericError", "desc": "SEV is not enabled in KVM"},
                  "id": mid})
            continue
        elif how == "not-enabled":
            ret["enabled"] = False
        elif how == "running":
            ret["state"] = "running"
        elif how == "snp":
            del ret["policy"], ret["handle"]
            ret["sev-type"], ret["snp-policy"] = "sev-snp", 0x30000
        elif how == "policy-string":
            ret["policy"] = "3"
        send({"return": ret, "id": mid})
    elif cmd == "query-sev-launch-measure":
        data = "A" * 64 if how != "short-blob" else "A" * 60 + "AA=="
        if how in ("refuse-inject", "hang-inject"):
            data = true_blob()
        send({"return": {"data": data}, "id": mid})
    elif cmd == "sev-inject-launch-secret" and how == "refuse-inject":
        send({"error": {"class": "GenericError", "desc": "SEV: failed to inject secret"},
              "id": mid})
    elif cmd == "sev-inject-launch-secret" and how == "hang-inject":
        time.sleep(30)
        break
    else:
        send({"return": {}, "id": mid})
