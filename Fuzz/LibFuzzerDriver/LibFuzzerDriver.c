// Only the declaration in include/LibFuzzerDriver.h is needed; SwiftPM wants one source file.
#include "LibFuzzerDriver.h"
