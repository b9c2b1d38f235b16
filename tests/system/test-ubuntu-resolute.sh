#!/usr/bin/env bash
# A real Ubuntu 26.04 LTS system on Ubuntu's own kernel (7.0): the boots
# and checks of test-ubuntu.sh (24.04) on resolute, with its package built
# in a resolute root (gcc 15, CMake 4), initramfs-tools 0.151, cryptsetup
# 2.8 and systemd 259. Only with SYSTEM_RESOLUTE=1 (tests/system/system.mk).
export SYS_SUITE=resolute
# Ubuntu's kernel and its initramfs (MODULES=most) on the ESP.
export ESP_MIB=${ESP_MIB:-160}
export BOOT_TIMEOUT=${BOOT_TIMEOUT:-300}
exec bash "$TOP/tests/system/test-initramfs-tools.sh" "$@"
