#include "common/ml/onnx_check.hpp"

#include <algorithm>
#include <opencv2/dnn.hpp>

namespace edgenas::ml {

torch::Tensor opencv_logits(const std::string& onnx_bytes, const data::ImageSet& set) {
  auto cv_net = cv::dnn::readNetFromONNX(onnx_bytes.data(), onnx_bytes.size());
  const int dims[] = {static_cast<int>(set.size()), set.channels, set.height, set.width};
  cv::Mat blob(4, dims, CV_32F);
  auto* p = blob.ptr<float>();
  for (size_t i = 0; i < set.pixels.size(); ++i) p[i] = static_cast<float>(set.pixels[i]);
  cv_net.setInput(blob, "pixels");
  cv::Mat out = cv_net.forward();
  return torch::from_blob(out.ptr<float>(), {out.size[0], out.size[1]}, torch::kFloat32).clone();
}

double onnx_max_difference(const std::string& onnx_bytes, Net& net, const data::ImageSet& set) {
  torch::NoGradGuard no_grad;
  const auto ours = net->forward(to_tensor(set)), theirs = opencv_logits(onnx_bytes, set);
  if (ours.sizes() != theirs.sizes()) return -1;
  const double scale = std::max(1.0, ours.abs().max().item<double>());
  return (ours - theirs).abs().max().item<double>() / scale;
}

}  // namespace edgenas::ml
