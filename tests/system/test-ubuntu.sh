#!/usr/bin/env bash
# A real Ubuntu 24.04 LTS system on Ubuntu's own kernel (the first kernel
# of these tests that no one here built): debootstrap noble from Ubuntu's
# archive, linux-image-virtual and linux-modules-extra of the same release
# (efi_secret.ko.zst is there), initramfs-tools and cryptsetup-initramfs,
# coco-unlock's package built for noble (in a noble root: libssl3t64)
# installed with apt. The same boots and checks as the Debian 12 system of
# test-initramfs-tools.sh: the injected secret opens the LUKS2 root up to
# multi-user.target and is gone; a wrong secret reaches Ubuntu's own
# cryptroot prompt and the typed passphrase boots; the package removed,
# cryptroot alone asks and the system comes up.
export SYS_SUITE=noble
# Ubuntu's kernel (15 MiB) and its initramfs (MODULES=most) on the ESP.
export ESP_MIB=${ESP_MIB:-160}
# Ubuntu's boot under TCG: 2 minutes on a busy machine (a 38 MB image,
# systemd 255 with more units); the prompt that no one answers still ends.
export BOOT_TIMEOUT=${BOOT_TIMEOUT:-300}
exec bash "$TOP/tests/system/test-initramfs-tools.sh" "$@"
