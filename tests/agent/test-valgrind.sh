#!/usr/bin/env bash
# The agent under valgrind: no memory errors and no leaks on a success,
# a failure, a forged header, a wipe-only run and a missing device.
. "$(dirname "$0")/lib.sh"

if [ "${SANITIZED:-0}" = 1 ]; then
	tap_skip valgrind "the ASan build cannot run under valgrind"
	tap_done
	exit
fi
command -v valgrind >/dev/null || { tap_not_ok "valgrind is installed"; tap_done; exit; }

# shellcheck disable=SC2034 # lib.sh's run_agent runs the agent under it
AGENT_WRAPPER="valgrind --quiet --error-exitcode=99 --leak-check=full
	--show-leak-kinds=definite,indirect,possible
	--errors-for-leak-kinds=definite,indirect,possible
	--suppressions=$TOP/tests/valgrind.supp"

new_secret >"$FIX/key"
new_secret >"$FIX/wrong"
make_luks "$DEVICES/disk.img" luks2 "$FIX/key"
U=$(luks_uuid "$DEVICES/disk.img")

put_secret "$GUID_A" "$FIX/key"
run_agent valgrind-success "rd.luks.uuid=$U rd.coco.key=$GUID_A rd.coco.debug"
rc_is valgrind-success 0

put_secret "$GUID_A" "$FIX/wrong"
put_secret "$GUID_B" "$FIX/wrong"
run_agent valgrind-failure "rd.luks.uuid=$U rd.coco.key=$GUID_A rd.luks.uuid=0e0e0e0e-1111-4222-8333-444444444444 rd.coco.timeout=0"
rc_is valgrind-failure 1

# Two volumes at once: the workers (agent/workers.c) under valgrind too.
cp "$DEVICES/disk.img" "$FIX/twin.img"
cryptsetup luksUUID -q --uuid 5eeeeeee-0000-4000-8000-000000000002 "$FIX/twin.img"
mkdir -p "$FIX/two"
cp "$DEVICES/disk.img" "$FIX/twin.img" "$FIX/two/"
put_secret "$GUID_A" "$FIX/key"
put_secret "$GUID_B" "$FIX/key"
run_agent valgrind-parallel "rd.luks.uuid=$U rd.coco.key=$U:$GUID_A rd.luks.uuid=5eeeeeee-0000-4000-8000-000000000002 rd.coco.key=5eeeeeee-0000-4000-8000-000000000002:$GUID_B rd.coco.debug" --devices-dir "$FIX/two"
rc_is valgrind-parallel 0
tap_is "valgrind-parallel: both verified" 2 "$(grep -c 'key verified' "$OUT")"

# A forged header: the policy refuses it (segment cipher_null).
cp "$DEVICES/disk.img" "$FIX/forged.img"
"$TOP/tests/lib/luks2-forge.py" "$FIX/forged.img" set segments.0.encryption '"cipher_null-ecb"'
mkdir -p "$FIX/forged"
mv "$FIX/forged.img" "$FIX/forged/"
put_secret "$GUID_A" "$FIX/key"
run_agent valgrind-forged "rd.luks.uuid=$U rd.coco.key=$GUID_A" --devices-dir "$FIX/forged"
rc_is valgrind-forged 1
out_has "valgrind-forged: refused by the policy" "refused by the header policy"

put_secret "$GUID_A" "$FIX/key"
run_agent valgrind-wipe-only "rd.coco.key=$GUID_A rd.luks.uuid=$U" --wipe-only
rc_is valgrind-wipe-only 0

put_secret "$GUID_A" "$FIX/key"
printf 'bad\n' >"$FIX/crypttab"
run_agent valgrind-config-error "rd.luks.uuid=$U"
rc_is valgrind-config-error 2
tap_done
