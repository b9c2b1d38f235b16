#!/usr/bin/env bash
# The LD_PRELOAD shims themselves (tests/lib/flip-disk.c, fake-dm.c), on
# small files and calls made here, before any test relies on them:
# flip-disk serves each open of the image by its schedule, whatever path
# names it and whether open or fopen opens it; fake-dm keeps devices as
# libdevmapper would and never writes a key to its log.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
: "${BUILD:?BUILD must name the build directory}"
FLIP=$BUILD/tests/flip-disk.so
FAKE_DM=$BUILD/tests/fake-dm.so

T=$(mktemp -d "${TMPDIR:-/tmp}/coco-shims-test.XXXXXX")
trap 'rm -rf "$T"' EXIT

for f in "$FLIP" "$FAKE_DM"; do
	if [ ! -f "$f" ]; then
		tap_not_ok "the shims are built ($f)"
		tap_done
		exit
	fi
done
# Under ASan the shims need the sanitizer runtime first.
PRELOAD=
if [ "${SANITIZED:-0}" = 1 ]; then
	PRELOAD=$(gcc -print-file-name=libasan.so):
	export ASAN_OPTIONS=detect_leaks=0
fi

# --- flip-disk -------------------------------------------------------------------------
printf 'AAAA-owner;' >"$T/a.img"
printf 'BBBB-host!;' >"$T/b.img"
ln -s a.img "$T/link"

# flip SCHEDULE CMD...: CMD in $T with a.img played by SCHEDULE.
flip() {
	local schedule=$1
	shift
	(cd "$T" && env LD_PRELOAD="$PRELOAD$FLIP" COCO_FLIP_PATH="$T/a.img" COCO_FLIP_ALT="$T/b.img" \
		COCO_FLIP_SCHEDULE="$schedule" "$@")
}

tap_is "each open of one process by the schedule, the last letter past its end" \
	"AAAA-owner;BBBB-host!;AAAA-owner;AAAA-owner;" "$(flip ABA cat a.img a.img a.img a.img)"
tap_is "the image by any name: relative, through a symlink, absolute" \
	"BBBB-host!;BBBB-host!;BBBB-host!;" "$(flip B cat ./a.img link "$T/a.img")"
tap_is "another file is never served B" "BBBB-host!;" "$(flip B cat b.img)"
tap_is "no schedule: A" "AAAA-owner;" "$(flip '' cat a.img)"
tap_is "no COCO_FLIP_PATH: nothing changes" "AAAA-owner;" \
	"$(cd "$T" && env LD_PRELOAD="$PRELOAD$FLIP" COCO_FLIP_ALT="$T/b.img" COCO_FLIP_SCHEDULE=B cat a.img)"
# fopen does not go through the interposable open: the shim has its own.
tap_is "fopen and openat are flipped too" "AAAA-owner;|BBBB-host!;" \
	"$(flip AB python3 -c '
import ctypes, os, sys
libc = ctypes.CDLL(None)
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
libc.fread.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
f = libc.fopen(b"a.img", b"r")
buf = ctypes.create_string_buffer(64)
n = libc.fread(buf, 1, 64, f)
libc.fclose(f)
fd = os.open("a.img", os.O_RDONLY, dir_fd=os.open(".", os.O_RDONLY))
sys.stdout.write(buf.raw[:n].decode() + "|" + os.read(fd, 64).decode())
')"
flip AB env COCO_FLIP_DEBUG=1 cat a.img a.img >/dev/null 2>"$T/debug"
tap_check "COCO_FLIP_DEBUG: one line per open, with its number and letter" \
	grep -qzE "open #1 of $T/a.img: A \(flags 0x[0-9a-f]+\)
[^\n]*open #2 of $T/a.img: B " "$T/debug"
tap_absent "COCO_FLIP_DEBUG: never the contents" "$T/debug" "owner|host!" "open #2"
flip B env COCO_FLIP_PATH="$T/missing.img" cat a.img >/dev/null 2>"$T/abort"
# shellcheck disable=SC2034 # read by the eval below
rc=$?
tap_check "an image that is not there: the shim refuses to run unflipped" \
	eval '[ "$rc" != 0 ] && grep -q "refusing to run unflipped" "$T/abort"'

# --- fake-dm ------------------------------------------------------------------------------
# Its calls made the way libcryptsetup makes them, from Python (ctypes) on
# the shim itself; every line printed is checked below.
KEY=$(head -c 64 /dev/urandom | od -An -v -tx1 | tr -d ' \n')
HOST_KEY=$(head -c 32 /dev/urandom | od -An -v -tx1 | tr -d ' \n')
printf '%s' "$KEY" >"$T/key.hex"
env ${PRELOAD:+LD_PRELOAD="${PRELOAD%:}"} COCO_FAKE_DM_LOG="$T/dm.log" COCO_FAKE_DM_CRYPT_VERSION=1.21.3 python3 - "$FAKE_DM" "$KEY" "$HOST_KEY" \
	>"$T/dm.out" 2>&1 <<'EOF'
import ctypes, sys
dm = ctypes.CDLL(sys.argv[1])
key, host_key = sys.argv[2], sys.argv[3]
CREATE, REMOVE, INFO, TABLE, LIST_VERSIONS = 0, 2, 6, 11, 16

class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_int) for n in ("exists", "suspended", "live_table", "inactive_table",
                "open_count", "event_nr", "major", "minor", "read_only", "target_count",
                "deferred_remove", "internal_suspend")]

class Versions(ctypes.Structure):
    _fields_ = [("next", ctypes.c_uint32), ("version", ctypes.c_uint32 * 3)]

dm.dm_task_create.restype = ctypes.c_void_p
for f in ("dm_task_set_name", "dm_task_run", "dm_task_get_info", "dm_task_add_target",
          "dm_task_set_uuid", "dm_task_destroy", "dm_task_get_versions", "dm_get_next_target"):
    getattr(dm, f).argtypes = None
dm.dm_task_get_versions.restype = ctypes.c_void_p
dm.dm_get_next_target.restype = ctypes.c_void_p

def task(kind, name=None, targets=()):
    t = ctypes.c_void_p(dm.dm_task_create(kind))
    if name:
        dm.dm_task_set_name(t, name.encode())
        dm.dm_task_set_uuid(t, ("CRYPT-TEST-" + name).encode())
    for start, length, ttype, params in targets:
        dm.dm_task_add_target(t, ctypes.c_uint64(start), ctypes.c_uint64(length),
                              ttype.encode(), params.encode())
    ok = dm.dm_task_run(t)
    info = Info()
    dm.dm_task_get_info(t, ctypes.byref(info))
    return t, ok, info

t, ok, _ = task(LIST_VERSIONS)
v = ctypes.c_void_p(dm.dm_task_get_versions(t))
rec = Versions.from_address(v.value)
print("versions", ctypes.string_at(v.value + ctypes.sizeof(Versions)).decode(), ".".join(map(str, rec.version)))
dm.dm_task_destroy(t)

t, ok, info = task(INFO, "vol")
print("before", ok, info.exists)
dm.dm_task_destroy(t)
t, ok, info = task(CREATE, "vol", [(0, 8192, "crypt", "aes-xts-plain64 %s 0 /dev/vdb 32768 1 sector_size:4096" % key)])
print("create", ok, info.exists, info.major)
dm.dm_task_destroy(t)
t, ok, info = task(CREATE, "vol", [(0, 8, "zero", "")])
print("again", ok)
dm.dm_task_destroy(t)
t, ok, info = task(TABLE, "vol")
start, length = ctypes.c_uint64(), ctypes.c_uint64()
ttype, params = ctypes.c_char_p(), ctypes.c_char_p()
nxt = dm.dm_get_next_target(t, None, ctypes.byref(start), ctypes.byref(length),
                            ctypes.byref(ttype), ctypes.byref(params))
# The table comes back whole (libcryptsetup reads its key from it): only
# compared here, never printed.
print("table", ok, info.exists, ttype.value.decode(), params.value.decode().split()[1] == key, nxt)
dm.dm_task_destroy(t)
t, ok, info = task(CREATE, "host", [(0, 8192, "crypt",
                   "aes-xts-plain64 %s 0 /dev/HOSTDISK 0 0 %s 0 /dev/vdb 32768" % (host_key, key))])
dm.dm_task_destroy(t)
t, ok, info = task(CREATE, "ring", [(0, 8192, "crypt", "aes-xts-plain64 :64:logon:cryptsetup:x-d0 0 /dev/vdb 0")])
dm.dm_task_destroy(t)
t, ok, info = task(REMOVE, "vol")
print("remove", ok)
dm.dm_task_destroy(t)
t, ok, info = task(INFO, "vol")
print("after", ok, info.exists)
dm.dm_task_destroy(t)
print("END")
EOF
sha() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
tap_is "fake-dm: versions, and devices as libdevmapper keeps them" \
	"versions crypt 1.21.3
before 1 0
create 1 1 253
again 0
table 1 1 crypt True None
remove 1
after 1 0
END" "$(cat "$T/dm.out")"
tap_is "fake-dm: the log has each table, the key as its SHA-256" \
	"create vol uuid=CRYPT-TEST-vol ro=0 0 8192 crypt aes-xts-plain64 KEY-SHA256=$(sha "$KEY"),len=128 0 /dev/vdb 32768 1 sector_size:4096" \
	"$(grep '^create vol ' "$T/dm.log")"
tap_is "fake-dm: a host's cipher string: its words kept, every key in it hashed" \
	"create host uuid=CRYPT-TEST-host ro=0 0 8192 crypt aes-xts-plain64 KEY-SHA256=$(sha "$HOST_KEY"),len=64 0 /dev/HOSTDISK 0 0 KEY-SHA256=$(sha "$KEY"),len=128 0 /dev/vdb 32768" \
	"$(grep '^create host ' "$T/dm.log")"
tap_is "fake-dm: a key in the kernel keyring is named, not hashed" \
	"create ring uuid=CRYPT-TEST-ring ro=0 0 8192 crypt aes-xts-plain64 :64:logon:cryptsetup:x-d0 0 /dev/vdb 0" \
	"$(grep '^create ring ' "$T/dm.log")"
tap_check "fake-dm: removes are logged" grep -qx "remove vol" "$T/dm.log"
cat "$T/dm.out" >>"$T/dm.log"
tap_absent_bytes "fake-dm: the key's bytes are in no line it wrote" "$T/dm.log" "^END$" "$T/key.hex"
tap_done
