// The system's zlib (Debian: zlib1g-dev), as a Swift module.
#include <zlib.h>
