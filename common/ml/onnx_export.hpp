#pragma once
// A network of the search space as a standard ONNX model (Debian's libonnx: its protobuf schema
// and its checker), for runtimes that know nothing of edgenas: an NPU's compiler (Ascend ATC),
// TensorRT, OpenCV's DNN module, ONNX Runtime.
//
// The contract, also written into the file's metadata (docs/OPERATIONS.md, "ONNX models"):
//   input  "pixels": float32 N×C×H×W, the image's pixel values 0..255 as they are (grey: C = 1);
//          the graph scales them by 1/255 itself, as edgenas does before its first layer
//   output "logits": float32 N×classes; the answer is the argmax, class k is label k of the data
//          set the model was trained on (for meter digits: the digit k)
// Opset 13, operators every runtime above knows: Conv, BatchNormalization, Relu, Add, Mul,
// HardSigmoid, GlobalAveragePool, Flatten, Gemm (h-swish is written as x·HardSigmoid(x) with
// α = 1/6, β = 1/2: the HardSwish operator is opset 14).
#include <string>

#include "common/ml/net.hpp"
#include "common/util/expected.hpp"

namespace edgenas::ml {

inline constexpr int kOnnxOpset = 13;

// The ONNX model of `net` (its weights as they are now), checked by ONNX's checker, serialized.
Expected<std::string> onnx_model_bytes(Net& net, const search::ArchSpec& spec,
                                       const search::InputShape& input);

// The same, written atomically to `path`.
Status export_onnx(const std::string& path, Net& net, const search::ArchSpec& spec,
                   const search::InputShape& input);

}  // namespace edgenas::ml
