# swiftvisor.test=net swiftvisor.ip=ADDR swiftvisor.peer=ADDR swiftvisor.role=client|server:
# virtio-net and the hypervisor's virtual switch, run in two VMs at once. Each loads
# the virtio-net modules, brings eth0 up with its address, waits for the peer and pings it 3
# times; then the client sends a known 1 MiB file over TCP (busybox nc) to the server, which
# checks its SHA-256, and both meet at a barrier (the server connects to the client's port 5001)
# so that neither powers off with data in flight. Prints PASS/FAIL lines.
fail=0
pass() { echo "PASS net: $*"; }
failed() { echo "FAIL net: $*"; fail=1; }
ip=; peer=; role=
for word in $(cat /proc/cmdline); do
    case "$word" in
    swiftvisor.ip=*) ip=${word#swiftvisor.ip=} ;;
    swiftvisor.peer=*) peer=${word#swiftvisor.peer=} ;;
    swiftvisor.role=*) role=${word#swiftvisor.role=} ;;
    esac
done

for m in $(grep -E "virtio|failover" /modules/order); do
    insmod "/modules/$m.ko" 2>/tmp/insmod.err || failed "insmod $m: $(cat /tmp/insmod.err)"
done
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -e /sys/class/net/eth0 ] || { failed "no eth0"; exit 1; }
ip link set lo up
ip addr add "$ip/24" dev eth0
ip link set eth0 up
pass "eth0 $(cat /sys/class/net/eth0/address) $ip up"

# The peer boots at the same time: wait for its first answer (at most 2 minutes).
i=0
until ping -c 1 -W 1 "$peer" >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -ge 120 ] && break
done
out=$(ping -c 3 "$peer" 2>&1)
echo "$out" | sed "s/^/net: /"
if echo "$out" | grep -q "3 packets transmitted, 3 packets received"; then pass "ping -c 3 $peer: 3 of 3 answered"
else failed "ping -c 3 $peer"; fi

# The known file: decimal numbers, one a line, cut at 1 MiB.
seq 1 200000 | head -c 1048576 > /tmp/data
want=$(sha256sum < /tmp/data | cut -d' ' -f1)
if [ "$role" = server ]; then
    # nc's stdin must stay open (a fifo with a writer) or it closes the connection at once.
    mkfifo /tmp/hold
    nc -l -p 5000 < /tmp/hold > /tmp/got &
    pid=$!
    exec 3>/tmp/hold
    wait $pid
    exec 3>&-
    # The barrier: the client waits for this connection before it powers off (and stops its
    # clock: the whole file has arrived).
    i=0
    until nc "$peer" 5001 </dev/null >/dev/null 2>&1; do
        i=$((i + 1)); [ $i -ge 120 ] && { failed "barrier: $peer:5001"; break; }; sleep 1
    done
    got=$(sha256sum < /tmp/got | cut -d' ' -f1)
    echo "net: received $(wc -c < /tmp/got) bytes sha256 $got"
    if [ "$got" = "$want" ]; then pass "1 MiB over TCP from $peer: sha256 matches"
    else failed "1 MiB over TCP from $peer: sha256 $got, expected $want"; fi
else
    i=0
    while :; do
        start=$(cut -d' ' -f1 /proc/uptime)
        nc "$peer" 5000 < /tmp/data 2>/dev/null && break
        i=$((i + 1)); [ $i -ge 120 ] && { failed "nc $peer 5000"; break; }; sleep 1
    done
    pass "sent 1 MiB ($want) to $peer:5000"
    nc -l -p 5001 </dev/null >/dev/null && pass "barrier: the server is done"
    # From the connection to the server's barrier: the transfer, in guest time (the TSC: in Bochs
    # with tsc_early_khz=50000, 50 M emulated instructions of the whole machine a second).
    end=$(cut -d' ' -f1 /proc/uptime)
    echo "net: tcp 1048576 bytes in $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }') s"
fi
grep -E "virtio" /proc/interrupts | sed "s/^/net: /"
exit $fail
