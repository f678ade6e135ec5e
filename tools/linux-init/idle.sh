# swiftvisor.test=idle swiftvisor.idle=S: the machine sits idle for S seconds of guest time (every
# CPU in its idle loop, timers running), so make bench can count the exits idleness costs: the
# difference between a run with S > 0 and one with S = 0, divided by S.
seconds=0
for word in $(cat /proc/cmdline); do
    case "$word" in swiftvisor.idle=*) seconds=${word#swiftvisor.idle=} ;; esac
done
echo "idle: $(nproc) CPUs idle for $seconds s"
sleep "$seconds"
echo "idle: done"
