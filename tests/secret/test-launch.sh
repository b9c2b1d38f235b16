#!/usr/bin/env bash
# coco-secret launch against a QMP peer that lies or hangs
# (tests/secret/fake-qmp.py): every answer is checked before it is
# believed, every wait is bounded, and each fault is one line naming the
# socket and the fault; nothing is injected, the guest is not continued.
# The launch that succeeds is in the boot tests (tests/boot/test-launch.sh).
. "$TOP/tests/secret/lib.sh"
need_sev_vectors
FAKE=$TOP/tests/secret/fake-qmp.py
cs build -o "$FIX/table.bin" "$DISK_GUID=$VEC/secret/secret1.txt"
remember_secret "$VEC/secret/secret1.txt"
KEYS=(--tik "$VEC/measurement/tik1.bin" --tek "$VEC/secret/tek1.bin" --table "$FIX/table.bin")
MEASURE=(--mode sev --ovmf "$VEC/ovmf_AmdSev_suffix.bin")

# peer NAME HOW WHY-ERE [OUTCOME-ERE]: launch against the fake peer acting
# HOW fails within the timeout (2 s, a few more allowed), names the fault,
# says what became of the secret (default: nothing injected, the guest not
# continued), and the peer was sent no cont (nor, by default, an inject).
peer() {
	local name=$1 how=$2 why=$3 outcome=${4:-'nothing injected; the guest was not continued'}
	local pid start secs sent='^(sev-inject-launch-secret|cont)$' what='no inject and no cont'
	[ $# -gt 3 ] && sent='^cont$' what='no cont'
	rm -f "$FIX/qmp.sock" "$FIX/qmp.sock.ready" "$FIX/peer.log"
	: >"$FIX/peer.log"
	"$FAKE" "$FIX/qmp.sock" "$how" "$FIX/peer.log" "$VEC/measurement/tik1.bin" \
		"$VEC/ovmf_AmdSev_suffix.bin" &
	pid=$!
	for _ in $(seq 50); do [ -e "$FIX/qmp.sock.ready" ] && break; sleep 0.1; done
	start=$SECONDS
	cs launch --qmp "$FIX/qmp.sock" --qmp-timeout 2 "${KEYS[@]}" "${MEASURE[@]}"
	secs=$((SECONDS - start))
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	if [ "$RC" = 1 ] && grep -qE -- "$why" "$OUT" && [ "$secs" -le 6 ] &&
		grep -qE -- "$outcome" "$OUT"; then
		tap_ok "$name"
	else
		tap_not_ok "$name"
		echo "#   expected status 1, '$why', '$outcome', within 6 s; got status $RC after ${secs}s:"
		sed 's/^/#   | /' "$OUT"
	fi
	case $how in
	hang-greeting | not-qmp)
		# Nothing may be sent before a QMP greeting.
		tap_check "$name: the peer was sent nothing" test ! -s "$FIX/peer.log" ;;
	*)
		tap_absent "$name: the peer was sent $what" "$FIX/peer.log" "$sent" '^qmp_capabilities$' ;;
	esac
}

peer "a peer that never greets" hang-greeting "greeting: no answer within 2 s"
peer "a greeting that is not QMP's" not-qmp "the greeting is not QMP's"
peer "a peer that never answers query-sev" hang-sev "query-sev: no answer within 2 s"
peer "an answer to another command (id)" wrong-id "a reply that is not to this command"
peer "an answer that is not JSON" garbage "not a JSON object"
peer "a message without end" huge "a message over 65536 bytes"
peer "events instead of an answer" events "query-sev: no answer within 2 s"
peer "QEMU's error, in its words" error-sev "query-sev failed: SEV is not enabled in KVM"
peer "SEV not enabled" not-enabled "SEV is not enabled for this guest"
peer "a guest already running" running "in state running, not launch-secret"
peer "an SNP guest (9.1's union)" snp "sev-type is sev-snp"
peer "a policy that is not a number" policy-string "policy is missing or not a number"
peer "a blob of 47 bytes" short-blob "data is not 48 bytes of base64"
tap_check "the last peer's log proves the conversation" grep -q '^query-sev-launch-measure$' "$FIX/peer.log"
peer "a blob that is not the launch's MAC" blob "not verified"
# A measurement that verifies, then the injection goes wrong.
peer "QEMU refuses the packet" refuse-inject "sev-inject-launch-secret failed: SEV: failed to inject" \
	'nothing injected; the guest was not continued'
peer "no answer to the injection" hang-inject "sev-inject-launch-secret: no answer within 2 s" \
	'whether the secret arrived is unknown; the guest was not continued'
tap_check "the injection was sent (the measurement verified)" \
	grep -q '^sev-inject-launch-secret$' "$FIX/peer.log"

cs launch "${KEYS[@]}" "${MEASURE[@]}"
expect "no --qmp" 2 "launch needs --qmp SOCKET"
cs launch --qmp "$FIX/none.sock" "${KEYS[@]}" --mode snp --ovmf "$VEC/ovmf_AmdSev_suffix.bin"
expect "SNP refused" 2 "SNP guests take no launch secret"
cs launch --qmp "$FIX/none.sock" "${KEYS[@]}"
expect "no measure options" 2 "the measure options"
cs launch --qmp "$FIX/none.sock" "${KEYS[@]}" "${MEASURE[@]}"
expect "no QEMU there" 1 "cannot connect"
no_secret_in_output "no secret bytes in any output"
tap_done
