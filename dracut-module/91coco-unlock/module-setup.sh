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
    # Needed whatever the build host has loaded (host-only images too).
    hostonly="" instmods efi_secret dm_crypt
    # The static build uses the kernel's crypto API (AF_ALG) for keyslots.
    hostonly='' instmods af_alg algif_hash algif_skcipher
}

# called by dracut
install() {
    local bin
    bin=$(coco_unlock_binary) || return 1
    inst_binary "$bin" /usr/sbin/coco-unlock
    inst_script "$moddir/coco-unlock-dracut.sh" /usr/sbin/coco-unlock-dracut
    # dracut-install keeps the source's mode: a copy without x bits (an
    # unpacked tarball, a package manager's umask) must still run.
    chmod 0755 "$initdir/usr/sbin/coco-unlock-dracut"

    if dracut_module_included "systemd"; then
        inst_simple "$moddir/coco-unlock.service" "$systemdsystemunitdir/coco-unlock.service"
        mkdir -p "$initdir$systemdsystemunitdir/sysinit.target.wants"
        ln_r "$systemdsystemunitdir/coco-unlock.service" \
            "$systemdsystemunitdir/sysinit.target.wants/coco-unlock.service"
    else
        # Settled jobs run in name order: 00 comes before cryptroot-ask-*.
        inst_hook initqueue/settled 00 "$moddir/coco-unlock-settled.sh"
    fi
    inst_hook pre-pivot 10 "$moddir/coco-unlock-wipe.sh"
}
