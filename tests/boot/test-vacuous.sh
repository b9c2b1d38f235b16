#!/usr/bin/env bash
# Boot tests must not pass on a run that did not happen. Each scenario
# below boots as usual, but with BOOT_DROP_SERIAL=1 its serial logs are
# deleted before any check reads them: then every check after the boot,
# the absence checks ("no secret bytes", "no fallback", "no prompt", "no
# failed unit") included, must be "not ok". Only the harness's own
# statement that the VM ran may stay "ok": it did run.
set -u
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/boot/lib.sh"

VAC=$BOOT_WORK/runs-vacuous
rm -rf "$VAC"
mkdir -p "$VAC"

for t in tests/boot/test-happy.sh tests/boot/test-wrong-secret.sh \
	tests/boot/test-mkinitcpio.sh tests/dracut/test-hostonly.sh; do
	name=$(basename "$t" .sh)
	out=$VAC/$name.tap
	BOOT_DROP_SERIAL=1 BOOT_RUNS=$VAC DRACUT_RUNS=$VAC/dracut "$TOP/$t" >"$out" 2>&1
	rc=$?
	# The checks after the first dropped log.
	after=$(sed -n '/^# BOOT-SERIAL-DROPPED /,$p' "$out" | grep -E '^(not )?ok [0-9]+')
	failed=$(grep -c '^not ok' <<<"$after")
	passed=$(grep -E '^ok ' <<<"$after" | grep -v 'the VM ran to its end')
	tap_check "$name: its serial log was dropped after the boot" grep -q '^# BOOT-SERIAL-DROPPED ' "$out"
	tap_check "$name: the test fails (status $rc)" test "$rc" != 0
	tap_check "$name: checks after the boot turned not ok ($failed)" test "$failed" -ge 3
	tap_empty "$name: no check after the boot passed" "$out" "$passed"
	tap_check "$name: the no-secret-bytes check is among them" \
		grep -q '^not ok .*no secret bytes on the console' <<<"$after"
done
tap_done
