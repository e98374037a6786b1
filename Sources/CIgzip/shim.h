#include <isa-l/igzip_lib.h>

// The size of level 1's hash and token buffer, as a constant Swift can import (the macro is an
// expression).
static const unsigned int cigzip_level1_buffer_size = ISAL_DEF_LVL1_EXTRA_LARGE;
