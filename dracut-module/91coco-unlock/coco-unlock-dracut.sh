#!/bin/sh
# Runs coco-unlock with dracut's whole kernel command line: host-only
# images keep rd.luks.uuid= and friends in /etc/cmdline.d, not in
# /proc/cmdline. /proc/cmdline comes last so that, as with dracut's own
# getarg, what the boot loader passes wins.
cmdline=/run/coco-unlock.cmdline
cat /etc/cmdline /etc/cmdline.d/*.conf /proc/cmdline 2> /dev/null | tr '\n' ' ' > "$cmdline"
exec /usr/sbin/coco-unlock --cmdline "$cmdline" "$@"
