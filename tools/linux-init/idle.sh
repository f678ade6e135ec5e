# swiftvisor.test=idle swiftvisor.idle=S: the machine sits idle for S seconds of guest time (every
# CPU in its idle loop, timers running) between two SWIFTVISOR-MARK lines, which the hypervisor
# stamps with the VM's exit count and the TSC: make bench divides the exits between them by the
# guest time between them.
seconds=0
for word in $(cat /proc/cmdline); do
    case "$word" in swiftvisor.idle=*) seconds=${word#swiftvisor.idle=} ;; esac
done
echo "idle: $(nproc) CPUs idle for $seconds s"
echo "SWIFTVISOR-MARK idle begins"
sleep "$seconds"
echo "SWIFTVISOR-MARK idle ends"
echo "idle: done"
