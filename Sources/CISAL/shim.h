#include <isa-l/igzip_lib.h>
#include <isa-l/crc.h>

/// Size of the level buffer ISA-L needs for `level` (its level macros are not importable).
static inline unsigned int swiftdock_isal_level_buf_size(int level) {
    switch (level) {
    case 1: return ISAL_DEF_LVL1_DEFAULT;
    case 2: return ISAL_DEF_LVL2_DEFAULT;
    case 3: return ISAL_DEF_LVL3_DEFAULT;
    default: return 0;
    }
}
