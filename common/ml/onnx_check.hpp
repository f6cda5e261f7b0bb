#pragma once
// Running an exported ONNX file in an independent runtime, OpenCV's DNN module (Debian's
// libopencv-dnn-dev), and comparing it with edgenas's own inference: the tests that check the
// export and the ONNX benchmark use it; nothing shipped links it.
#include <string>

#include "common/data/dataset.hpp"
#include "common/ml/net.hpp"

namespace edgenas::ml {

// OpenCV's logits for the images, fed as the file's contract says: pixel values 0..255, NCHW.
torch::Tensor opencv_logits(const std::string& onnx_bytes, const data::ImageSet& set);

// The largest |difference| between edgenas's logits (the net in eval mode) and OpenCV's on the
// images, relative to the logits' scale (at least 1): float32 sums over up to ten layers differ
// in their last bits. Negative when the two disagree on the output's shape.
double onnx_max_difference(const std::string& onnx_bytes, Net& net, const data::ImageSet& set);

}  // namespace edgenas::ml
