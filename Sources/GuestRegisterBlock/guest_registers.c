/* The layout checks of guest_registers.h (its _Static_asserts) compiled once for SwiftPM. */
#include "guest_registers.h"
