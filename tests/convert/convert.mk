# coco-secret convert (issue 26). The refusals run in the secret phase
# (small GPT images made in seconds; about 50 s). The end-to-end test
# (a cloud-style Ubuntu 24.04 image debootstrapped and cached in
# $(CACHE)/ubuntu-cloud-noble-KEY, converted, booted) only with
# CONVERT_BOOT=1, in the boot-6.1 phase:
#   make check PHASES=boot-6.1 TESTS=tests/convert/test-ubuntu.sh CONVERT_BOOT=1
SECRET_TESTS += tests/convert/test-refusals.sh
CHECK_DEPS += convert
CONVERT_BOOT ?=
ifeq ($(CONVERT_BOOT),1)
BOOT_TESTS += tests/convert/test-ubuntu.sh
endif
