#!/bin/sh
# initqueue/settled hook (shell mode): the devices udev knows about are
# there; unlock before the crypt module's cryptroot-ask jobs, which skip
# a volume whose /dev/mapper name exists. Once per boot: the initqueue
# runs settled hooks on every pass.
if [ ! -e /run/coco-unlock.done ]; then
    : > /run/coco-unlock.done
    /usr/sbin/coco-unlock-dracut
    coco_unlock_rc=$?
    echo "coco-unlock: exit status $coco_unlock_rc" > /run/coco-unlock.status
    # coco-unlock powers off itself for rd.coco.on-failure=poweroff (or
    # crypttab x-coco.on-failure=poweroff), but not when it is killed (the
    # OOM killer, a crash) or stops at a configuration error: then this
    # powers off instead of leaving the volumes to cryptroot-ask's prompt.
    # The command line as coco-unlock-dracut gives it to coco-unlock.
    [ "$coco_unlock_rc" = 0 ] || /usr/sbin/coco-unlock-fail-closed "$coco_unlock_rc" \
        /etc/crypttab /etc/cmdline /etc/cmdline.d/*.conf /proc/cmdline
    unset coco_unlock_rc
fi
