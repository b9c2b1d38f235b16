#!/bin/bash
# dracut module: unlock LUKS volumes with secrets injected into a
# confidential VM (efi_secret), before the crypt module asks for a
# passphrase, and wipe the secrets before switch_root.
# shellcheck disable=SC2154 # dracutsysrootdir, hostonly, moddir...: set by dracut

# The static build when installed (one file, no libraries), else the
# dynamic one. COCO_UNLOCK_BINARY (environment) names another file on the
# build host: the tests put a freshly built binary in that way.
coco_unlock_binary() {
    local bin
    if [[ ${COCO_UNLOCK_BINARY-} ]]; then
        [[ -x $COCO_UNLOCK_BINARY ]] && { echo "$COCO_UNLOCK_BINARY"; return 0; }
        return 1
    fi
    for bin in /usr/lib/coco-unlock/coco-unlock.static /usr/sbin/coco-unlock /usr/bin/coco-unlock; do
        [[ -x "$dracutsysrootdir$bin" ]] && { echo "$bin"; return 0; }
    done
    return 1
}

# The coco-efi-secret token plugin, so that systemd-cryptsetup (and
# cryptsetup) open a volume through its token: where the image's
# libcryptsetup looks, the cryptsetup/ directory beside it (dracut 059
# copies no token plugin by itself). COCO_UNLOCK_PLUGIN (environment)
# names another file on the build host, as COCO_UNLOCK_BINARY does.
coco_unlock_plugin=libcryptsetup-token-coco-efi-secret.so
coco_unlock_install_plugin() {
    local dir
    if [[ ${COCO_UNLOCK_PLUGIN-} ]]; then
        [[ -f $COCO_UNLOCK_PLUGIN ]] || return 1
        for dir in $libdirs; do
            if [[ -e $dracutsysrootdir$dir/libcryptsetup.so.12 ]]; then
                # inst, not inst_library: dracut-ng (Debian 13's 106)
                # has no inst_library any more.
                inst "$COCO_UNLOCK_PLUGIN" "$dir/cryptsetup/$coco_unlock_plugin"
                return
            fi
        done
        return 1
    fi
    inst_libdir_file "cryptsetup/$coco_unlock_plugin"
}

# called by dracut
check() {
    local fs
    coco_unlock_binary > /dev/null || return 1
    # Host-only images get the module where the host has LUKS volumes.
    if [[ $hostonly ]]; then
        for fs in "${host_fs_types[@]}"; do
            [[ $fs == "crypto_LUKS" ]] && return 0
        done
        return 255
    fi
    return 0
}

# called by dracut
depends() {
    echo crypt
    return 0
}

# called by dracut
installkernel() {
    # Needed whatever the build host has loaded (host-only images too):
    # the secrets, and dm-crypt for the mappings. Keyslot crypto needs no
    # module: the static build's is its own, in user space.
    hostonly="" instmods efi_secret dm_crypt
    coco_unlock_kernel_check
}

# A kernel without efi_secret (neither built in nor a module) makes an
# image in which coco-unlock can never read a secret, and instmods says
# nothing: say it, naming the kernel and what to do. Debian's kernels
# have never enabled it; Ubuntu's have it in linux-modules-extra-VERSION.
coco_unlock_kernel_check() {
    local dir=${srcmods:-/lib/modules/$kernel} todo
    grep -Eqs '(^|/)efi_secret\.ko' "$dir/modules.builtin" "$dir/modules.dep" && return 0
    if grep -Eqs '^ID(_LIKE)?=.*ubuntu' "${COCO_UNLOCK_OS_RELEASE:-/etc/os-release}"; then
        todo="install linux-modules-extra-$kernel"
    else
        todo="boot a kernel built with CONFIG_EFI_SECRET (Debian's kernels lack it)"
    fi
    dwarn "coco-unlock: kernel $kernel has no efi_secret, so coco-unlock cannot read injected secrets with it: $todo"
}

# called by dracut
install() {
    local bin
    bin=$(coco_unlock_binary) || return 1
    inst_binary "$bin" /usr/sbin/coco-unlock
    inst_script "$moddir/coco-unlock-dracut.sh" /usr/sbin/coco-unlock-dracut
    # Run after coco-unlock (the settled hook, or coco-unlock.service's
    # ExecStopPost=): rd.coco.on-failure=poweroff also when coco-unlock is
    # killed.
    inst_script "$moddir/coco-unlock-fail-closed.sh" /usr/sbin/coco-unlock-fail-closed
    # dracut-install keeps the source's mode: a copy without x bits (an
    # unpacked tarball, a package manager's umask) must still run.
    chmod 0755 "$initdir/usr/sbin/coco-unlock-dracut" "$initdir/usr/sbin/coco-unlock-fail-closed"

    # Not there (no plugin installed) is fine: coco-unlock opens the volumes.
    coco_unlock_install_plugin || dinfo "coco-unlock: no $coco_unlock_plugin to add"

    if dracut_module_included "systemd"; then
        # coco_unlock_service="no" (dracut.conf.d, or the environment) leaves
        # coco-unlock.service out: systemd-cryptsetup then opens the volumes
        # itself, through the token plugin; the wipe below stays.
        if [[ ${coco_unlock_service-yes} != no ]]; then
            inst_simple "$moddir/coco-unlock.service" "$systemdsystemunitdir/coco-unlock.service"
            mkdir -p "$initdir$systemdsystemunitdir/sysinit.target.wants"
            ln_r "$systemdsystemunitdir/coco-unlock.service" \
                "$systemdsystemunitdir/sysinit.target.wants/coco-unlock.service"
        fi
    else
        # Settled jobs run in name order: 00 comes before cryptroot-ask-*.
        inst_hook initqueue/settled 00 "$moddir/coco-unlock-settled.sh"
    fi
    inst_hook pre-pivot 10 "$moddir/coco-unlock-wipe.sh"
}
