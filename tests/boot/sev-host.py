#!/usr/bin/env python3
"""The host and its PSP, for the boot tests of coco-secret launch.

The boot tests run QEMU under TCG, without SEV: nothing measures, nothing
decrypts. This stand-in plays both parts the owner talks to. To the
owner it is QEMU's QMP socket (--listen): it answers qmp_capabilities,
query-sev, query-sev-launch-measure, sev-inject-launch-secret and cont,
as QEMU 7.2 (--schema 7.2, flat SevInfo) or 9.1 and later (--schema 9.1,
the sev-type union) would. Behind it, it does what the PSP does:

  LAUNCH_START   unwraps TEK and TIK from the owner's session (--godh,
                 --session) with its platform's PDH key (--platform, made
                 by tests/secret/sev-platform.py make), checks the
                 policy's MAC;
  LAUNCH_UPDATE  measures the firmware and the kernel, initrd and command
                 line that the real QEMU boots (below), and on SEV-ES the
                 vCPUs' initial state (--vcpus VMSAs);
  LAUNCH_MEASURE a fresh MNONCE, MEASURE = HMAC(TIK, ...);
  LAUNCH_SECRET  checks the packet's MAC against that MEASURE, decrypts it
                 with the TEK, and hands the table to the "firmware".

The real QEMU (--qemu-qmp, started with -S) boots Debian's OVMF with
coco-inject.efi from the ESP (--esp), which loads \\vmlinuz with
\\initrd.img and \\coco\\cmdline.txt. So what this PSP measures is what
that QEMU runs: the launch firmware is the OVMF code QEMU was given
(--ovmf-code), then the ESP's \\EFI\\BOOT\\BOOTX64.EFI padded to 4 KiB,
then an AmdSev OVMF footer page (--footer: the secret and hashes-table
areas and the SEV-ES reset address live there); the kernel, initrd and
command line are read back from the ESP. The decrypted table goes into
the ESP as \\coco\\secret-table.masked (coco-inject's format) before
`cont` is passed on to QEMU, which is never continued otherwise.

Written apart from coco-secret's C code: the two sides meet only in the
vectors (../shared/vectors/sev), which `sev-host.py selftest` checks.
Everything it decides goes to --log, one line each; no secret bytes.
"""
import argparse
import base64
import hashlib
import hmac as pyhmac
import importlib.util
import json
import os
import socket
import struct
import subprocess
import sys
import uuid

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "sev_platform", os.path.join(HERE, "..", "secret", "sev-platform.py"))
platform = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(platform)

FOOTER_GUID = "96b582de-1fb2-45f7-baea-a366c55a082d"
RESET_GUID = "00f771de-1a7e-4fcb-890e-68c77e2fb44e"
HASHES_GUID = "7255371f-3a3b-4b04-927b-1da6efa8d454"
SECRET_GUID = "4c2eb361-7d9b-4cc3-8081-127c90d3d294"
TABLE_GUID = "9438d606-4f22-4cc9-b479-a793d411fd21"
CMDLINE_GUID = "97d02dd8-bd20-4c94-aa78-e7714d36ab2a"
INITRD_GUID = "44baf731-3a2f-4bd7-9af1-41e29169781d"
KERNEL_GUID = "4de79437-abd2-427f-b835-d5b172d2045b"
SECRET_TABLE_GUID = "1e74f542-71dd-4d66-963e-ef4287ff173b"


def efi_guid(text):
    return uuid.UUID(text).bytes_le


# ---------------------------------------------------------------------------
# The launch digest (what LAUNCH_UPDATE_DATA / _VMSA feed the PSP's hash)

def footer_entries(fw):
    """The OVMF footer table: {guid: data}; it ends 32 bytes before the end."""
    end = len(fw) - 32
    if fw[end - 16:end] != efi_guid(FOOTER_GUID):
        raise ValueError("no OVMF footer table")
    total = struct.unpack_from("<H", fw, end - 18)[0]
    start, pos, out = end - total, end - 18, {}
    while pos > start:
        guid = str(uuid.UUID(bytes_le=fw[pos - 16:pos]))
        size = struct.unpack_from("<H", fw, pos - 18)[0]
        if size < 18 or pos - size < start:
            raise ValueError("a footer entry runs out of the table")
        out[guid] = fw[pos - size:pos - 18]
        pos -= size
    return out


def hashes_table(kernel, initrd, cmdline):
    """QEMU's padded SEV hashes table (the cmdline hash covers its NUL)."""
    body = b""
    for guid, data in ((CMDLINE_GUID, cmdline + b"\0"), (INITRD_GUID, initrd),
                       (KERNEL_GUID, kernel)):
        body += efi_guid(guid) + struct.pack("<H", 50) + hashlib.sha256(data).digest()
    table = efi_guid(TABLE_GUID) + struct.pack("<H", 18 + len(body)) + body
    return table + bytes(-len(table) % 16)


def segment(sel, attrib, limit, base):
    return struct.pack("<HHIQ", sel, attrib, limit, base)


def vmsa(eip, sig, fpu):
    """An SEV-ES vCPU's initial save area (AMD APM vol. 2, table B-4), as KVM
    builds it from QEMU's reset state: CS:IP from the reset address."""
    page = bytearray(4096)
    data = segment(0, 0x93, 0xffff, 0)
    cs = segment(0xf000, 0x9b, 0xffff, eip & 0xffff0000)
    page[0x00:0xa0] = (data + cs + data * 4 + segment(0, 0, 0xffff, 0) +
                       segment(0, 0x82, 0xffff, 0) + segment(0, 0, 0xffff, 0) +
                       segment(0, 0x8b, 0xffff, 0))
    for off, value in ((0xd0, 0x1000), (0x148, 0x40), (0x158, 0x10), (0x160, 0x400),
                       (0x168, 0xffff0ff0), (0x170, 0x2), (0x178, eip & 0xffff),
                       (0x268, 0x0007040600070406), (0x310, sig), (0x3e8, 0x1)):
        struct.pack_into("<Q", page, off, value)
    if fpu == "init2":
        struct.pack_into("<I", page, 0x408, 0x1f80)
        struct.pack_into("<H", page, 0x410, 0x037f)
    return bytes(page)


def launch_digest(fw, kernel, initrd, cmdline, mode, vcpus=1, sig=0x800f12, fpu="legacy"):
    entries = footer_entries(fw)
    h = hashlib.sha256(fw)
    if kernel is not None:
        area = entries.get(HASHES_GUID, bytes(8))
        if struct.unpack_from("<II", area)[0] == 0:
            raise ValueError("the firmware has no hashes-table area")
        h.update(hashes_table(kernel, initrd, cmdline))
    if mode == "seves":
        ap_eip = struct.unpack_from("<I", entries[RESET_GUID])[0]
        h.update(vmsa(0xfffffff0, sig, fpu))
        for _ in range(vcpus - 1):
            h.update(vmsa(ap_eip, sig, fpu))
    return h.digest()


def measure_mac(tik, api, policy, digest, mnonce):
    data = bytes([0x04, api[0], api[1], api[2]]) + struct.pack("<I", policy) + digest + mnonce
    return pyhmac.new(tik, data, hashlib.sha256).digest()


def open_packet(tik, tek, measure, header, secret):
    """LAUNCH_SECRET: the table, or ValueError naming the check that failed."""
    if len(header) != 52 or len(secret) == 0 or len(secret) % 16:
        raise ValueError("a packet of the wrong shape (header %d bytes, secret %d bytes)"
                         % (len(header), len(secret)))
    flags, iv, mac = header[:4], header[4:20], header[20:52]
    data = (b"\x01" + flags + iv + struct.pack("<II", len(secret), len(secret)) + secret +
            measure)
    if not pyhmac.compare_digest(pyhmac.new(tik, data, hashlib.sha256).digest(), mac):
        raise ValueError("the packet's MAC does not verify")
    dec = Cipher(algorithms.AES(tek), modes.CTR(iv)).decryptor()
    return dec.update(secret) + dec.finalize()


# ---------------------------------------------------------------------------
# The ESP (mtools), as tests/boot/lib.sh builds it

def esp_read(esp, path):
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    return subprocess.run(["mtype", "-i", esp, "::" + path], check=True, env=env,
                          stdout=subprocess.PIPE).stdout


def esp_put_table(esp, table):
    masked = bytes(b ^ ((167 * i + 13) & 255) for i, b in enumerate(table))
    tmp = esp + ".table.masked"
    with open(tmp, "wb") as f:
        f.write(masked)
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    try:
        subprocess.run(["mcopy", "-o", "-i", esp, tmp, "::/coco/secret-table.masked"],
                       check=True, env=env)
    finally:
        os.unlink(tmp)


def launch_firmware(ovmf_code, injector, footer):
    fw = open(ovmf_code, "rb").read() + injector
    fw += bytes(-len(fw) % 4096)
    return fw + open(footer, "rb").read()


# ---------------------------------------------------------------------------
# QMP: a client to the real QEMU, a server to the owner

class QemuQmp:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(path)
        self.reader = self.sock.makefile("r")
        json.loads(self.reader.readline())
        self.run("qmp_capabilities")

    def run(self, cmd):
        self.sock.sendall(json.dumps({"execute": cmd}).encode() + b"\r\n")
        while True:
            reply = json.loads(self.reader.readline())
            if "return" in reply:
                return reply["return"]
            if "error" in reply:
                raise RuntimeError("%s: %s" % (cmd, reply["error"].get("desc")))


class Host:
    def __init__(self, o, log):
        self.o, self.log = o, log
        self.api = (o.api_major, o.api_minor, o.build_id)
        self.measure = None
        self.injected = False
        self.qemu = QemuQmp(o.qemu_qmp)
        status = self.qemu.run("query-status")
        if status.get("running") or status.get("status") != "prelaunch":
            raise SystemExit("sev-host: the real QEMU is not paused before its launch (-S)")
        self.log("QEMU paused (status %s): the PSP's part starts" % status["status"])
        try:
            self.tek, self.tik = platform.unwrap_keys(
                o.platform, open(o.godh, "rb").read(), open(o.session, "rb").read(), o.policy)
        except platform.Refused as e:
            self.log("LAUNCH_START refused: " + str(e))
            raise SystemExit(1)
        self.log("LAUNCH_START: session unwrapped for this PDH, policy 0x%x MAC verified"
                 % o.policy)
        self.digest = self.measure_launch()

    def measure_launch(self):
        o = self.o
        fw = launch_firmware(o.ovmf_code, esp_read(o.esp, "/EFI/BOOT/BOOTX64.EFI"), o.footer)
        kernel = esp_read(o.esp, "/vmlinuz")
        initrd = esp_read(o.esp, "/initrd.img")
        cmdline = esp_read(o.esp, "/coco/cmdline.txt").rstrip(b"\n").replace(b"\n", b" ")
        self.secret_gpa, _ = struct.unpack_from("<II", footer_entries(fw)[SECRET_GUID])
        d = launch_digest(fw, kernel, initrd, cmdline, o.mode, o.vcpus, o.vcpu_sig, o.vmsa_fpu)
        self.log("LAUNCH_UPDATE: %s launch, firmware %d bytes, kernel %d, initrd %d, "
                 "cmdline %r%s: digest %s" % (o.mode, len(fw), len(kernel), len(initrd),
                                               cmdline.decode(),
                                               ", %d vCPUs" % o.vcpus if o.mode == "seves" else "",
                                               d.hex()))
        return d

    def query_sev(self):
        info = {"enabled": True, "api-major": self.api[0], "api-minor": self.api[1],
                "build-id": self.api[2], "state": "launch-secret",
                "policy": self.o.policy, "handle": 1}
        if self.o.schema == "9.1":
            info["sev-type"] = "sev"
        return info

    def query_measure(self):
        mnonce = os.urandom(16)
        self.measure = measure_mac(self.tik, self.api, self.o.policy, self.digest, mnonce)
        self.log("LAUNCH_MEASURE: a fresh MNONCE, MEASURE sent")
        return {"data": base64.b64encode(self.measure + mnonce).decode()}

    def inject(self, args):
        if self.measure is None or self.injected:
            raise ValueError("LAUNCH_SECRET out of order")
        header = base64.b64decode(args["packet-header"], validate=True)
        secret = bytearray(base64.b64decode(args["secret"], validate=True))
        if args.get("gpa", self.secret_gpa) != self.secret_gpa:
            raise ValueError("gpa 0x%x is not the firmware's secret area" % args["gpa"])
        if self.o.alter_in_transit:
            secret[len(secret) // 2] ^= 0x01
            self.log("one bit of the packet flipped on its way in (--alter-in-transit)")
        table = open_packet(self.tik, self.tek, self.measure, header, bytes(secret))
        if table[:16] != efi_guid(SECRET_TABLE_GUID):
            raise ValueError("the decrypted table does not start with the table GUID")
        esp_put_table(self.o.esp, table)
        self.injected = True
        self.log("LAUNCH_SECRET: MAC verified, %d bytes decrypted, handed to coco-inject "
                 "(ESP \\coco\\secret-table.masked)" % len(table))
        return {}

    def cont(self):
        self.qemu.run("cont")
        self.log("cont passed on to QEMU (secret %s)" %
                 ("injected" if self.injected else "NOT injected"))
        return {}

    def handle(self, cmd, args):
        if cmd == "qmp_capabilities":
            return {}
        if cmd == "query-sev":
            return self.query_sev()
        if cmd == "query-sev-launch-measure":
            return self.query_measure()
        if cmd == "sev-inject-launch-secret":
            return self.inject(args)
        if cmd == "cont":
            return self.cont()
        raise LookupError(cmd)


def serve(o, host, log):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if os.path.exists(o.listen):
        os.unlink(o.listen)
    srv.bind(o.listen)
    srv.listen(1)
    srv.settimeout(o.wait)
    log("listening on %s" % o.listen)
    conn, _ = srv.accept()
    conn.settimeout(o.wait)
    reader = conn.makefile("r")
    conn.sendall(json.dumps({"QMP": {"version": {"qemu": {"major": 7 if o.schema == "7.2"
                                                           else 9, "minor": 2 if o.schema ==
                                                           "7.2" else 1, "micro": 0}},
                                     "capabilities": []}}).encode() + b"\r\n")
    for line in reader:
        msg = json.loads(line)
        cmd, reply = msg.get("execute"), {}
        log("owner: %s" % cmd)
        try:
            reply["return"] = host.handle(cmd, msg.get("arguments", {}))
        except LookupError:
            reply["error"] = {"class": "CommandNotFound", "desc": "no command %s" % cmd}
        except (ValueError, KeyError) as e:
            log("%s refused: %s" % (cmd, e))
            reply["error"] = {"class": "GenericError", "desc": "SEV: %s" % e}
        if "id" in msg:
            reply["id"] = msg["id"]
        conn.sendall(json.dumps(reply).encode() + b"\r\n")
    log("the owner hung up")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--listen", required=True)
    p.add_argument("--qemu-qmp", required=True)
    p.add_argument("--esp", required=True)
    p.add_argument("--ovmf-code", required=True)
    p.add_argument("--footer", required=True)
    p.add_argument("--platform", required=True)
    p.add_argument("--godh", required=True)
    p.add_argument("--session", required=True)
    p.add_argument("--policy", type=lambda s: int(s, 0), required=True)
    p.add_argument("--mode", choices=["sev", "seves"], default="sev")
    p.add_argument("--vcpus", type=int, default=1)
    p.add_argument("--vcpu-sig", type=lambda s: int(s, 0), default=0x800f12)
    p.add_argument("--vmsa-fpu", choices=["legacy", "init2"], default="legacy")
    p.add_argument("--schema", choices=["7.2", "9.1"], default="7.2")
    p.add_argument("--api", default="1.55.21", help="MAJOR.MINOR.BUILD")
    p.add_argument("--alter-in-transit", action="store_true")
    p.add_argument("--wait", type=float, default=120)
    p.add_argument("--log", required=True)
    o = p.parse_args()
    o.api_major, o.api_minor, o.build_id = (int(x) for x in o.api.split("."))
    logf = open(o.log, "a", buffering=1)

    def log(text):
        logf.write("sev-host: " + text + "\n")

    try:
        serve(o, Host(o, log), log)
    except SystemExit:
        raise
    except Exception as e:  # one line in the log, whatever broke
        log("stopped: %s: %s" % (type(e).__name__, e))
        sys.exit(1)


def selftest(vec):
    """The vectors this stand-in shares with coco-secret (VECTORS.md)."""
    def rd(name):
        return open(os.path.join(vec, name), "rb").read()
    amd, el9 = rd("ovmf_AmdSev_suffix.bin"), rd("ovmf_amdsev_el9_suffix.bin")
    e = footer_entries(amd)
    nonce = base64.b64decode("wxP6tRHCFrFQWxsuqZA8QA==")
    checks = [
        ("AmdSev reset EIP", struct.unpack("<I", e[RESET_GUID])[0] == 0x80b004),
        ("AmdSev secret area", struct.unpack("<II", e[SECRET_GUID]) == (0x810000, 0xc00)),
        ("sev digest", launch_digest(amd, b"", b"", b"console=ttyS0 loglevel=7", "sev").hex() ==
         "82a3ee5d537c3620628270c292ae30cb40c3c878666a7890ee7ef2a08fb535ff"),
        ("seves 1 vCPU init2", launch_digest(amd, b"", b"", b"", "seves", 1, 0x800f12,
                                            "init2").hex() ==
         "13810ae661ea11e2bb205621f582fee268f0367c8f97bc297b7fadef3e12002c"),
        ("seves 4 vCPUs init2", launch_digest(amd, b"", b"", b"", "seves", 4, 0x800f12,
                                             "init2").hex() ==
         "0dccbcaba8e90b261bd0d2e1863a2f9da714768b7b2a19363cd6ae35aa90de91"),
        ("vmsa0.bin", vmsa(0xfffffff0, 0xa00f11, "legacy") == rd("vmsa0.bin")),
        ("vmsa1.bin", vmsa(0x80b004, 0xa00f11, "legacy") == rd("vmsa1.bin")),
        ("seves legacy el9", launch_digest(el9, None, None, None, "seves", 4, 0xa00f11).hex() ==
         "847b5ab6db136ea67dc5a95478ebe7e5ebbe93e9e74bdb1284165f9007a4e367"),
        ("measure blob", base64.b64encode(measure_mac(
            rd("measurement/tik1.bin"), (1, 40, 40), 3,
            base64.b64decode("xkvRAfyaSizgonxAjZIAkR8TmolUabBKQKb6KJCDDSM="), nonce) +
            nonce).decode() == "lswbxWxI9gckya16JQvdFtpYmNO4b+3inAPpqsgoBI7DE/q1EcIWsVBbGy6pkDxA"),
    ]
    blob = base64.b64decode("TLeA7607lZQntLjRY1/i+sbtdSZ+75zxpz4Px9hzpBLwItF5Q2o4prA++3ZZv9ZS")
    table = open_packet(rd("secret/tik1.bin"), rd("secret/tek1.bin"), blob[:32], base64.b64decode(
        "AAAAAKxUdO1N0yx9mJ7FI9klWey8FSzeYQ4X8K71VzNKLU/KQsIsQxLjtbhaPUewqshX5Q=="),
        base64.b64decode("0U3e5PcXv0UW+H4tSBFKOdCYfKE1+j38Bc2fuO16mYiyI+sWx7INfn+lgYj56GL12yy"
                         "inDa+lVfCCwD/2w5cPA=="))
    checks.append(("packet opens to the one-secret table", table[40:58] == rd("secret/secret1.txt")))
    bad = 0
    for name, ok in checks:
        print("# sev-host.py selftest: %s: %s" % (name, "ok" if ok else "FAILED"))
        bad += not ok
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "selftest":
        selftest(sys.argv[2])
    else:
        main()
