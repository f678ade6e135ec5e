# swiftvisor.test=forkexec: 200 fork+execs of /bin/true, the address-space churn of issue 12's
# shadow-paging measurement (every one a new mm: page tables built, CR3 loads, torn down).
i=0
while [ "$i" -lt 200 ]; do
    /bin/true || echo "FAIL forkexec: /bin/true failed at run $i"
    i=$((i + 1))
done
echo "PASS forkexec: $i runs of /bin/true"
