#!/bin/sh
# pre-pivot hook: whatever opened the volumes, no secret it was meant
# for goes on into the real root.
/usr/sbin/coco-unlock-dracut --wipe-only
