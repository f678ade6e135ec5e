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

# I/O APIC routing to each CPU: COM1's IRQ 4 pinned to one CPU at a time; writing to /dev/ttyS0
# (the tty driver sends by THR-empty interrupts; console output is polled and would not) then
# interrupts that CPU (its column of the IRQ 4 row rises), which only works if the I/O APIC
# delivers to that CPU's APIC ID. Without interrupt remapping Linux moves an I/O APIC interrupt
# lazily: the new destination is written from the old CPU's next interrupt, and not before the
# previous move's vector is freed on the CPU before that (an IPI it must be scheduled to take).
# With four vCPUs sharing one host CPU that can take a few dozen lines, so lines are written
# until the CPU has taken 3 interrupts, at most 300.
irq4() { grep "^ *4:" /proc/interrupts | awk -v c="$1" '{ print $(c + 2) }'; }
cpu=0
while [ "$cpu" -lt "$n" ]; do
    if echo "$cpu" > /proc/irq/4/smp_affinity_list 2>/dev/null; then
        b=$(irq4 "$cpu")
        a=$b
        i=0
        while [ $i -lt 300 ] && [ "$a" -lt $((b + 3)) ]; do
            echo "smp: line $i for CPU $cpu's serial interrupts" > /dev/ttyS0
            i=$((i + 1))
            a=$(irq4 "$cpu")
        done
        if [ "$a" -ge $((b + 3)) ]; then echo "PASS smp: IRQ 4 routed by the I/O APIC to CPU $cpu ($b -> $a, $i lines)"
        else echo "FAIL smp: IRQ 4 routed to CPU $cpu did not interrupt it ($b -> $a in $i lines)"; fi
    else
        echo "FAIL smp: cannot set IRQ 4's affinity to CPU $cpu"
    fi
    cpu=$((cpu + 1))
done
echo 0 > /proc/irq/4/smp_affinity_list 2>/dev/null
