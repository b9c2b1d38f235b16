# make deb: the Debian package (debian/), built by dpkg-buildpackage in a
# copy of the tracked files under $(BUILD)/deb, so that neither this tree
# nor its parent directory gets build products:
#   $(BUILD)/deb/coco-unlock_$(VERSION)_amd64.deb, .changes, .buildinfo
# The static libraries are built (or found in $(CACHE)) first, outside
# the package build, which then downloads nothing. `make deb-lintian`
# runs lintian on the result.
DEB_DIR = $(BUILD)/deb
DEB_SRC = $(DEB_DIR)/coco-unlock-$(VERSION)

.PHONY: deb deb-lintian
deb:
	@scripts/install-deps.sh build static deb
	@v=$$(dpkg-parsechangelog -S Version); [ "$$v" = "$(VERSION)" ] || \
		{ echo "debian/changelog says $$v, the Makefile $(VERSION)" >&2; exit 1; }
	@CACHE="$(CACHE)" scripts/static/build-static-deps.sh >/dev/null
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_SRC)
	git ls-files -z -co --exclude-standard | xargs -0 cp -a --parents -t $(DEB_SRC)
	cd $(DEB_SRC) && CACHE="$(CACHE)" dpkg-buildpackage -us -uc -b
	@ls -l $(DEB_DIR)/*.deb

deb-lintian:
	lintian --info --display-info --pedantic $(DEB_DIR)/coco-unlock_$(VERSION)_*.changes

# make check's package phase: lintian (--pedantic, the package's overrides)
# on the package make check builds for the real-system boots ($(SYS_DEB),
# tests/system/system.mk). The deb group brings lintian on a new machine.
CHECK_DEPS += deb
PACKAGE_TESTS += tests/deb/test-lintian.sh
PACKAGE_TEST_PREREQS += $(SYS_DEB)

# Debian's own kernel with efi_secret (trixie's linux-source-6.12 and its
# cloud-amd64 config plus EFI_COCO_SECRET and EFI_SECRET), as
# linux-image and linux-headers packages in $(BUILD)/kernel-deb (cached
# in $(CACHE)/kernel-deb-KEY; about an hour on 2 cores the first time).
.PHONY: kernel-deb
kernel-deb:
	@scripts/install-deps.sh kernel-deb
	@CACHE="$(CACHE)" scripts/kernel-deb.sh $(BUILD)/kernel-deb
