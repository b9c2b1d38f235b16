#!/usr/bin/env bash
# coco-secret convert end to end on Debian 13 (issue 26): a cloud-style
# trixie image (GPT, ESP, ext4 root with /boot, Debian's own
# linux-image-amd64, whose kernel has no efi_secret) made here, as qcow2,
# converted to qcow2 with the trixie package and a kernel package with
# efi_secret, the launch digests asked for; the checks of e2e.sh: the converted image
# launched on that kernel with coco-secret launch from its exported files,
# the input booted as it was on Debian's kernel, an interrupted convert
# leaving no --out.
#
# Environment as for tests/system; CONV_DEB=FILE: the package to install
# (default: built for trixie); CONV_KERNEL_DEB=FILE: the kernel package
# (default: the boot tests' 6.12 kernel, packaged by make-kernel-deb.sh;
# make kernel-deb's Debian kernel works the same, but takes hours here).
set -u
. "$TOP/tests/lib/tap.sh"
export SYS_SUITE=trixie
export ESP_MIB=${ESP_MIB:-160}
export BOOT_TIMEOUT=${BOOT_TIMEOUT:-300}
. "$TOP/tests/convert/lib.sh"
. "$TOP/tests/convert/e2e.sh"
if ! conv_e2e_start; then
	tap_done
	exit 0
fi
# The kernel package: CONV_KERNEL_DEB, else the boot tests' 6.12 kernel
# packaged (make-kernel-deb.sh); make kernel-deb's takes hours here.
kdeb=${CONV_KERNEL_DEB:-}
CONV_EXPECTED_FAILED=
if [ -z "$kdeb" ]; then
	kdeb=$CONV_WORK/trixie/linux-image-test.deb
	# That kernel has no VFAT: the image's /boot/efi (fstab, nofail)
	# fails to mount, the system runs degraded by that unit alone.
	CONV_EXPECTED_FAILED=boot-efi.mount
	mkdir -p "$CONV_WORK/trixie"
	if ! { KERNEL_SERIES=6.12 boot_kernel && "$CONV_SRC/make-kernel-deb.sh" "$KERNEL_DIR" "$kdeb" >/dev/null; }; then
		tap_not_ok "the boot tests' 6.12 kernel as a package"
		tap_done
		exit 1
	fi
fi
if ! conv_e2e_inputs; then
	tap_not_ok "the cloud-style trixie image and the trixie package"
	tap_done
	exit 1
fi
tap_ok "the cloud-style trixie image ($(du -m --apparent-size "$CLOUD_IMG" | cut -f1) MiB), $DEB, $(basename "$kdeb")"

CONV_FORMAT=qcow2 CONV_SEP_BOOT=0 CONV_MEASURE=sev,seves,snp
CONV_ARGS=(--kernel-deb "$kdeb")
conv_e2e
tap_done
