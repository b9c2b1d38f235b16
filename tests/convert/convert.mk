# coco-secret convert (issue 26). The refusals run in the secret phase
# (small GPT images made in seconds; about 50 s). The end-to-end test
# (a cloud-style Ubuntu 24.04 image debootstrapped and cached in
# $(CACHE)/ubuntu-cloud-noble-KEY, converted, booted) only with
# CONVERT_BOOT=1, in the boot-6.1 phase:
#   make check PHASES=boot-6.1 TESTS=tests/convert/test-ubuntu.sh CONVERT_BOOT=1
# test-trixie.sh: Debian 13, qcow2, --measure, --kernel-deb (the boot
# tests' 6.12 kernel packaged, or CONV_KERNEL_DEB=make kernel-deb's).
SECRET_TESTS += tests/convert/test-refusals.sh
CHECK_DEPS += convert
CONVERT_BOOT ?=
ifeq ($(CONVERT_BOOT),1)
BOOT_TESTS += tests/convert/test-ubuntu.sh tests/convert/test-trixie.sh
endif
# make bench: converting a 2 GiB image against cryptsetup reencrypt.
BENCHES += tests/bench/bench-convert.sh
BENCH_DEPS += convert system
