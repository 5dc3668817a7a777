// The trained weights live where the training side writes them (HZFusionNet/Resources); #embed
// compiles them into every binary, so an installed hzsr or hzsrd needs no file beside it. SwiftPM's
// own `.embedInCode` generates a Swift array literal that took over 8 minutes and 4.5 GB to compile
// for these 1.2 MB; clang's #embed takes a second, and its dependency file makes SwiftPM rebuild
// when the weights change.
#include "CFusionWeights.h"

#pragma clang diagnostic ignored "-Wc23-extensions"
static const unsigned char weights[] = {
#embed "../HZFusionNet/Resources/fusion-unet.safetensors"
};

const unsigned char *hzsr_fusion_weights(void) { return weights; }
size_t hzsr_fusion_weights_size(void) { return sizeof weights; }
