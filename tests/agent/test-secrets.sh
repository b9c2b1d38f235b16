#!/usr/bin/env bash
# Every state the kernel's secret area can show, and bad configuration:
# the agent must answer with its documented exit status, a clear line,
# and leave the secrets alone when it read none.
. "$(dirname "$0")/lib.sh"

new_secret >"$FIX/key"
make_luks "$DEVICES/disk.img" luks2 "$FIX/key"
U=$(luks_uuid "$DEVICES/disk.img")

# --- the secrets directory ------------------------------------------------
rmdir "$SECRETS"
start=$(date +%s)
run_agent no-directory "rd.luks.uuid=$U"
rc_is no-directory 3
out_has "no-directory: explains" "no secrets: .* does not exist"
tap_check "no-directory: quick, no waiting for devices" test $(($(date +%s) - start)) -le 2
mkdir "$SECRETS"

run_agent empty-directory "rd.luks.uuid=$U"
rc_is empty-directory 3
out_has "empty-directory: explains" "no secrets: .* is empty"
# The late run after every secret was used and wiped: nothing to do, not
# a failure (initramfs-tools' init-bottom said "Failure:" on each such boot).
run_agent empty-directory-late "rd.luks.uuid=$U" --wipe-only
rc_is empty-directory-late 0
out_has "empty-directory-late: says there is nothing left" "nothing left to wipe: .* is empty"
out_lacks "empty-directory-late: no error line" "no secrets"

# Names that are not GUIDs are not secrets.
echo x >"$SECRETS/README"
run_agent not-guids "rd.luks.uuid=$U"
rc_is not-guids 3
tap_check "not-guids: foreign file untouched" test -e "$SECRETS/README"
rm -f "$SECRETS/README"

# 64 secrets, the most efi_secret exposes; the key is one of them.
fill_secrets() {
	local i
	for ((i = 0; i < $1; i++)); do
		printf 'filler-%02d' "$i" >"$SECRETS/$(printf '%08x-0000-4000-8000-000000000000' "$i")"
	done
}
clear_secrets
fill_secrets 63
put_secret "$DISK_GUID" "$FIX/key"
run_agent 64-secrets "rd.luks.uuid=$U"
rc_is 64-secrets 0
out_has "64-secrets: all listed" "64 secret\(s\) in"
tap_check "64-secrets: only the used one wiped" eval "secret_gone $DISK_GUID && test \$(ls '$SECRETS' | wc -l) -eq 63"

clear_secrets
fill_secrets 63
put_secret "$DISK_GUID" "$FIX/key"
run_agent 64-secrets-wipe-all "rd.luks.uuid=$U rd.coco.wipe=all"
rc_is 64-secrets-wipe-all 0
tap_is "64-secrets-wipe-all: every file wiped" 0 "$(find "$SECRETS" -mindepth 1 | wc -l)"

clear_secrets
fill_secrets 70
run_agent 70-secrets "rd.luks.uuid=$U rd.coco.wipe=all"
out_has "70-secrets: warns beyond 64" "more than 64 secrets"
tap_is "70-secrets: wipe=all still wipes every file" 0 "$(find "$SECRETS" -mindepth 1 | wc -l)"

# --- configuration errors: exit 2, no volume opened, every secret wiped ----
# Nothing can use the secrets now (the late hook reads the same
# configuration), so none survives a typo into the real root.
for bad in "rd.coco.wipe=bogus" "rd.coco.timeout=soon" "rd.coco.key=xyz" "rd.luks.uuid=123" \
	"cryptdevice=/dev/vda" "rd.luks.name=$U=a rd.luks.name=$U=b"; do
	clear_secrets
	put_secret "$DISK_GUID" "$FIX/key"
	put_secret "$GUID_A" "$FIX/key"
	run_agent "bad-config($bad)" "rd.luks.uuid=$U $bad"
	rc_is "bad-config($bad)" 2
	tap_is "bad-config($bad): the error, then what it means" \
		"configuration error: no volume is opened, every secret is wiped" \
		"$(sed -n '2s/^coco-unlock: //p' "$OUT")"
	out_lacks "bad-config($bad): nothing tried" "key verified|does not open"
	tap_check "bad-config($bad): every secret wiped" eval "secret_gone $DISK_GUID && secret_gone $GUID_A"
done
for bad in "rd.coco.wipe=bogus" "rd.coco.key=xyz"; do
	clear_secrets
	put_secret "$DISK_GUID" "$FIX/key"
	run_agent "bad-config-wipe-only($bad)" "rd.luks.uuid=$U $bad" --wipe-only
	rc_is "bad-config-wipe-only($bad)" 2
	tap_check "bad-config-wipe-only($bad): every secret wiped" secret_gone "$DISK_GUID"
done

clear_secrets
put_secret "$DISK_GUID" "$FIX/key"
printf 'root\n' >"$FIX/crypttab"
run_agent bad-crypttab "rd.luks.uuid=$U"
rc_is bad-crypttab 2
out_has "bad-crypttab: names the line" "crypttab line 1"
tap_check "bad-crypttab: every secret wiped" secret_gone "$DISK_GUID"
rm -f "$FIX/crypttab"

run_agent missing-crypttab "rd.luks.uuid=$U" --crypttab "$FIX/nope"
rc_is missing-crypttab 2

# Usage errors are not configuration: the program was called wrongly.
clear_secrets
put_secret "$DISK_GUID" "$FIX/key"

"$COCO_UNLOCK" --no-such-option >"$FIX/out" 2>&1
tap_is "unknown option: exit status 2" 2 $?
"$COCO_UNLOCK" extra-argument >"$FIX/out" 2>&1
tap_is "stray argument: exit status 2" 2 $?
"$COCO_UNLOCK" --secrets-dir "" >"$FIX/out" 2>&1
tap_is "empty --secrets-dir: exit status 2" 2 $?
"$COCO_UNLOCK" --help >"$FIX/out" 2>&1
tap_is "--help: exit status 0" 0 $?
tap_check "--help: documents --wipe-only and --dry-run" grep -q -- "--wipe-only" "$FIX/out"
"$COCO_UNLOCK" --version >"$FIX/out" 2>&1
tap_check "--version prints the version" grep -qE '^coco-unlock [0-9]' "$FIX/out"
tap_check "secret untouched by all of the above" secret_present "$DISK_GUID"

# --- no efi_secret module ---------------------------------------------------
# Without --secrets-dir the agent loads the module itself. Run it in a
# private mount namespace (it mounts securityfs) with an empty module tree.
if unshare -m --propagation private true 2>/dev/null; then
	mkdir -p "$FIX/modules"
	: >"$FIX/modules/modules.dep"
	printf 'rd.luks.uuid=%s\n' "$U" >"$FIX/cmdline"
	OUT=$FIX/out
	unshare -m --propagation private "$COCO_UNLOCK" --kmod-dir "$FIX/modules" \
		--cmdline "$FIX/cmdline" --crypttab /dev/null --dry-run >"$OUT" 2>&1
	# shellcheck disable=SC2034 # read by rc_is (lib.sh)
	RC=$?
	show_output no-module
	rc_is no-module 3
	out_has "no-module: says the module is missing" "efi_secret module not found"
	out_has "no-module: and that there are no secrets" "no secrets: "
else
	tap_skip "no-module" "unshare -m not permitted here"
fi
tap_done
