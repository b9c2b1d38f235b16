#!/usr/bin/env bash
# A real Debian 13 (trixie) system with dracut: the boots and checks of
# test-dracut.sh on a root debootstrapped from trixie, the package built for
# trixie (in a trixie root: libssl3t64), cryptsetup 2.7.5. The kernel is
# the harness's 6.12 test kernel, built from Debian 12's linux-source-6.12
# with efi_secret, not one built from trixie's own source: these boots run
# in the boot-6.12 phase only.
export SYS_SUITE=trixie
exec bash "$TOP/tests/system/test-dracut.sh" "$@"
