#include <stddef.h>

/// The shipped fusion network weights: the bytes of a safetensors file compiled into the binary.
const unsigned char *hzsr_fusion_weights(void);
size_t hzsr_fusion_weights_size(void);
