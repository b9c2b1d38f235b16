#!/bin/sh
# initqueue/settled hook (shell mode): the devices udev knows about are
# there; unlock before the crypt module's cryptroot-ask jobs, which skip
# a volume whose /dev/mapper name exists. Once per boot: the initqueue
# runs settled hooks on every pass.
if [ ! -e /run/coco-unlock.done ]; then
    : > /run/coco-unlock.done
    /usr/sbin/coco-unlock-dracut
    echo "coco-unlock: exit status $?" > /run/coco-unlock.status
fi
