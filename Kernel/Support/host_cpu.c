/* host_cpu.c: the boot CPU's record (host_cpu.h); the APs' live in frames the BSP allocates. */
#include "host_cpu.h"

struct host_cpu host_cpu_bsp;
