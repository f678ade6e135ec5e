# swiftvisor.test=blk: the virtio-blk disk. Loads the virtio and ext4 modules, finds
# /dev/vda, mounts it, prints and checks the known files' SHA-256 sums (the boot test compares
# them with the image it made), writes a new file, syncs, unmounts, mounts again and checks the
# new file's sum read back from the disk. Prints PASS/FAIL lines.
fail=0
pass() { echo "PASS blk: $*"; }
failed() { echo "FAIL blk: $*"; fail=1; }

for m in $(cat /modules/order); do
    insmod "/modules/$m.ko" 2>/tmp/insmod.err || failed "insmod $m: $(cat /tmp/insmod.err)"
done
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if [ -b /dev/vda ]; then pass "/dev/vda: $(cat /sys/block/vda/size) sectors, ro=$(cat /sys/block/vda/ro)"
else failed "no /dev/vda"; ls /sys/bus/pci/devices /sys/block 2>&1 | sed "s/^/blk: /"; exit 1; fi
grep -E "virtio" /proc/interrupts | sed "s/^/blk: /"
# ECAM (MCFG): Linux exposes a function's extended configuration space (4096 bytes in sysfs)
# only when it can reach it, and for the host bridge, a conventional function, only then.
echo "blk: 00:00.0 config $(stat -c %s /sys/bus/pci/devices/0000:00:00.0/config) bytes"

mkdir -p /mnt
if mount -t ext4 /dev/vda /mnt; then pass "mounted /dev/vda ($(grep /dev/vda /proc/mounts | cut -d' ' -f3,4))"
else failed "mount /dev/vda"; exit 1; fi
# The known files: their sums, for the boot test; and the image's own list, checked here.
(cd /mnt && for f in $(ls known); do echo "blk: sha256 $(sha256sum "known/$f")"; done)
if (cd /mnt && sha256sum -c SHA256SUMS >/tmp/sums.out 2>&1); then pass "known files match SHA256SUMS ($(wc -l < /mnt/SHA256SUMS) files)"
else failed "SHA256SUMS: $(grep -v ': OK' /tmp/sums.out | head -n 3)"; fi

# A new file (1 MiB + 3 bytes, not a whole number of blocks), written, synced, unmounted.
yes "swiftvisor virtio-blk write test" | head -c 1048579 > /tmp/written.txt
want=$(sha256sum < /tmp/written.txt | cut -d' ' -f1)
cp /tmp/written.txt /mnt/written.txt && sync && pass "wrote written.txt and synced"
echo "blk: sha256 written $want"
umount /mnt && pass "unmounted" || failed "umount"
echo 3 > /proc/sys/vm/drop_caches
# Mounted again, the file comes back from the device (the page cache was dropped with the unmount).
if mount -t ext4 /dev/vda /mnt; then
    got=$(sha256sum < /mnt/written.txt | cut -d' ' -f1)
    if [ "$got" = "$want" ]; then pass "written.txt read back after a remount: $got"
    else failed "written.txt read back as $got, wrote $want"; fi
    umount /mnt
else
    failed "second mount"
fi
grep -E "virtio" /proc/interrupts | sed "s/^/blk: /"
exit $fail
