#!/usr/bin/env bash
# coco-secret convert end to end on Ubuntu 24.04 (issue 26): a cloud-style
# noble image (GPT, ESP, ext4 root, a separate /boot, Ubuntu's own
# linux-image-virtual without linux-modules-extra) made here, raw,
# converted with the noble package; the checks of e2e.sh: the converted
# image launched with coco-secret launch from its exported vmlinuz,
# initrd.img, cmdline and secret table, the input booted as it was, an
# interrupted convert leaving no --out.
#
# Environment as for tests/system; CONV_DEB=FILE: the package to install
# (default: built for noble, tests/system/lib.sh sys_release_deb).
set -u
. "$TOP/tests/lib/tap.sh"
export SYS_SUITE=noble
# Ubuntu's kernel and initramfs (MODULES=most) on the harness's ESP.
export ESP_MIB=${ESP_MIB:-160}
export BOOT_TIMEOUT=${BOOT_TIMEOUT:-300}
. "$TOP/tests/convert/lib.sh"
. "$TOP/tests/convert/e2e.sh"
if ! conv_e2e_start; then
	tap_done
	exit 0
fi
if ! conv_e2e_inputs; then
	tap_not_ok "the cloud-style noble image and the noble package"
	tap_done
	exit 1
fi
tap_ok "the cloud-style noble image ($(du -m --apparent-size "$CLOUD_IMG" | cut -f1) MiB) and $DEB"

CONV_FORMAT=raw CONV_SEP_BOOT=1 CONV_MEASURE=
CONV_ARGS=()
conv_e2e
tap_done
