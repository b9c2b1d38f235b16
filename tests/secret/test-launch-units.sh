#!/usr/bin/env bash
# The C unit tests of the launch pieces (launch-units.c), against the
# vectors: the packet of section 3, the MAC of section 2, sevctl's VMSA
# pages, the padded hashes table, the footer tables.
. "$TOP/tests/secret/lib.sh"
need_sev_vectors
UNITS=$BUILD/tests/secret-launch-units
if [ ! -x "$UNITS" ]; then
	tap_not_ok "the launch unit tests are built ($UNITS)"
	tap_done
	exit 1
fi
exec "$UNITS"
