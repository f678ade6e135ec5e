# swiftvisor.test=smp swiftvisor.vcpus=N: the kernel brought up N CPUs, each takes local-timer
# (LOC) interrupts, and a job pinned to each CPU runs there. Prints PASS/FAIL lines.
want=1
for word in $(cat /proc/cmdline); do
    case "$word" in swiftvisor.vcpus=*) want=${word#swiftvisor.vcpus=} ;; esac
done
n=$(nproc)
if [ "$n" = "$want" ]; then echo "PASS smp: nproc = $n"; else echo "FAIL smp: nproc = $n, expected $want"; fi
echo "smp: online $(cat /sys/devices/system/cpu/online)"

# The local-timer counts of each CPU, as one line of numbers.
loc() { grep "^ *LOC:" /proc/interrupts | awk -v n="$n" '{ s = ""; for (i = 2; i <= n + 1; i++) s = s " " $i; print s }'; }
before=$(loc)
# A small job pinned to each CPU: it must run where it was put (/proc/self/stat field 39).
cpu=0
while [ "$cpu" -lt "$n" ]; do
    ran=$(taskset -c "$cpu" sh -c 'i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done; cut -d" " -f39 /proc/self/stat')
    if [ "$ran" = "$cpu" ]; then echo "PASS smp: job pinned to CPU $cpu ran on CPU $ran"
    else echo "FAIL smp: job pinned to CPU $cpu ran on CPU '$ran'"; fi
    cpu=$((cpu + 1))
done
sleep 1
after=$(loc)
echo "smp: LOC before:$before"
echo "smp: LOC after: $after"
cpu=0
for b in $before; do
    a=$(echo $after | cut -d" " -f$((cpu + 1)))
    if [ "$a" -gt "$b" ]; then echo "PASS smp: CPU $cpu local timer interrupts rose ($b -> $a)"
    else echo "FAIL smp: CPU $cpu local timer interrupts did not rise ($b -> $a)"; fi
    cpu=$((cpu + 1))
done
grep -E "IO-APIC" /proc/interrupts | head -n 4 | sed "s/^/smp: /"
