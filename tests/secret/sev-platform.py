#!/usr/bin/env python3
"""A test SEV platform, written apart from coco-secret's C code (Python's
cryptography package), so that the two sides of a session cannot share a
mistake:

  sev-platform.py make DIR
      a chain in sevctl export --full's layout (DIR/chain: PDH, PEK, OCA,
      CEK, ASK, ARK), its own root (DIR/ark.cert, DIR/ask.cert, AMD's CA
      format, RSA-2048) and the PDH's private key (DIR/pdh.pem)

  sev-platform.py unwrap DIR NAME POLICY
      what the PSP does at LAUNCH_START with coco-secret session's
      NAME_godh.b64 and NAME_session.b64: ECDH with the PDH, the KDF, the
      KIK's MAC over the wrapped keys, the unwrap, the TIK's MAC over the
      policy; prints "TEK-hex TIK-hex", or says which check failed (exit 1)
"""
import base64
import os
import struct
import sys

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives import serialization

USAGE = {"ARK": 0x0, "ASK": 0x13, "OCA": 0x1001, "PEK": 0x1002, "PDH": 0x1003, "CEK": 0x1004}
RSA_SHA256, ECDSA_SHA256, ECDH_SHA256 = 0x1, 0x2, 0x3


def le(n, size):
    return n.to_bytes(size, "little")


def ca_cert(key, usage, kid, sid, signer):
    n = key.public_key().public_numbers()
    body = struct.pack("<I16s16sI16sII", 1, kid, sid, usage, bytes(16), 2048, 2048)
    body += le(n.e, 256) + le(n.n, 256)
    sig = signer.sign(body, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    return body + sig[::-1]


def sev_body(key, usage, algo):
    n = key.public_key().public_numbers()
    pub = struct.pack("<I", 2) + le(n.x, 72) + le(n.y, 72)
    return struct.pack("<IBBHII", 1, 0, 0x16, 0, usage, algo) + pub + bytes(1028 - len(pub))


def sev_slot(body, signer, usage):
    if usage == USAGE["ASK"]:
        sig = signer.sign(body, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
        raw, algo = sig[::-1], RSA_SHA256
    else:
        r, s = decode_dss_signature(signer.sign(body, ec.ECDSA(hashes.SHA256())))
        raw, algo = le(r, 72) + le(s, 72), ECDSA_SHA256
    return struct.pack("<II", usage, algo) + raw + bytes(512 - len(raw))


def empty_slot():
    return struct.pack("<II", 0x1000, 0) + bytes(512)


def sev_cert(key, usage, algo, signers):
    body = sev_body(key, usage, algo)
    slots = [sev_slot(body, k, u) for k, u in signers]
    while len(slots) < 2:
        slots.append(empty_slot())
    return body + b"".join(slots)


def make(d):
    os.makedirs(d, exist_ok=True)
    ark = rsa.generate_private_key(65537, 2048)
    ask = rsa.generate_private_key(65537, 2048)
    ark_id, ask_id = os.urandom(16), os.urandom(16)
    ark_c = ca_cert(ark, USAGE["ARK"], ark_id, ark_id, ark)
    ask_c = ca_cert(ask, USAGE["ASK"], ask_id, ark_id, ark)
    cek, oca, pek, pdh = (ec.generate_private_key(ec.SECP384R1()) for _ in range(4))
    cek_c = sev_cert(cek, USAGE["CEK"], ECDSA_SHA256, [(ask, USAGE["ASK"])])
    oca_c = sev_cert(oca, USAGE["OCA"], ECDSA_SHA256, [(oca, USAGE["OCA"])])
    pek_c = sev_cert(pek, USAGE["PEK"], ECDSA_SHA256, [(oca, USAGE["OCA"]), (cek, USAGE["CEK"])])
    pdh_c = sev_cert(pdh, USAGE["PDH"], ECDH_SHA256, [(pek, USAGE["PEK"])])
    files = {"ark.cert": ark_c, "ask.cert": ask_c,
             "chain": pdh_c + pek_c + oca_c + cek_c + ask_c + ark_c,
             "pdh.pem": pdh.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption())}
    for name, data in files.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


def mac(key, data):
    h = hmac.HMAC(key, hashes.SHA256())
    h.update(data)
    return h.finalize()


def kdf(key, label, ctx):
    return mac(key, struct.pack("<I", 1) + label + b"\0" + ctx + struct.pack("<I", 128))[:16]


def fail(why):
    print("sev-platform: " + why, file=sys.stderr)
    sys.exit(1)


class Refused(Exception):
    """A check the PSP makes at LAUNCH_START failed; the text says which."""


def unwrap_keys(d, godh_b64, session_b64, policy):
    """LAUNCH_START: the owner's TEK and TIK, or Refused naming the check."""
    try:
        godh = base64.b64decode(godh_b64, validate=True)
        blob = base64.b64decode(session_b64, validate=True)
    except ValueError:
        raise Refused("the GODH or session file is not base64")
    if len(godh) != 2084 or len(blob) != 128:
        raise Refused("GODH or session blob of the wrong size")
    ver, _, _, _, usage, algo, curve = struct.unpack_from("<IBBHIII", godh)
    if (ver, usage, algo, curve) != (1, USAGE["PDH"], ECDH_SHA256, 2):
        raise Refused("the GODH is not a version 1 P-384 ECDH key with PDH usage")
    x = int.from_bytes(godh[20:92], "little")
    y = int.from_bytes(godh[92:164], "little")
    peer = ec.EllipticCurvePublicNumbers(x, y, ec.SECP384R1()).public_key()
    pdh = serialization.load_pem_private_key(open(os.path.join(d, "pdh.pem"), "rb").read(), None)
    z = pdh.exchange(ec.ECDH(), peer)
    nonce, wrap_tk, wrap_iv = blob[0:16], blob[16:48], blob[48:64]
    wrap_mac, policy_mac = blob[64:96], blob[96:128]
    master = kdf(z, b"sev-master-secret", nonce)
    kek, kik = kdf(master, b"sev-kek", b""), kdf(master, b"sev-kik", b"")
    if mac(kik, wrap_tk) != wrap_mac:
        raise Refused("wrap_mac does not verify: the keys were not wrapped for this PDH")
    dec = Cipher(algorithms.AES(kek), modes.CTR(wrap_iv)).decryptor()
    keys = dec.update(wrap_tk) + dec.finalize()
    tek, tik = keys[:16], keys[16:]
    if mac(tik, struct.pack("<I", policy)) != policy_mac:
        raise Refused("policy_mac does not verify for policy 0x%x" % policy)
    return tek, tik


def unwrap(d, name, policy):
    try:
        tek, tik = unwrap_keys(d, open(name + "_godh.b64", "rb").read(),
                               open(name + "_session.b64", "rb").read(), policy)
    except Refused as e:
        fail(str(e))
    print(tek.hex(), tik.hex())


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "make":
        make(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == "unwrap":
        unwrap(sys.argv[2], sys.argv[3], int(sys.argv[4], 0))
    else:
        sys.exit(__doc__)
