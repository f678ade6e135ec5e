/*
 * HostEventProbe.S: raises vectors 2 (NMI) and 18 (#MC) with INT n, so a boot-time
 * check (HostEvents.checkSurvival) runs the handlers' real paths - IST stack,
 * counting, IRETQ - and sees the hypervisor carry on.
 *
 *   void host_event_probe(void)
 */
        .text
        .code64
        .global host_event_probe
host_event_probe:
        int     $2
        int     $18
        ret
