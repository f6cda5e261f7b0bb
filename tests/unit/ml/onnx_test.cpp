// ONNX export checked by an independent runtime, OpenCV's DNN module (Debian's
// libopencv-dnn-dev): for every block kind and for networks sampled across the whole search
// space, with batch-norm statistics that are not the identity, OpenCV's logits on rendered meter
// digits equal edgenas's own; the same comparison catches a wrong file (an activation swapped).
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <opencv2/dnn.hpp>
#include <random>

#include "common/ml/onnx_export.hpp"
#include "common/search/space.hpp"
#include "simulations/meter/meter.hpp"

namespace edgenas::ml {
namespace {

// Digit crops of rendered meters, both styles (28×28 grey).
data::ImageSet meter_digits(int meters) {
  auto gen = meter::Generator::create();
  EXPECT_TRUE(gen.ok()) << gen.error().message;
  data::ImageSet set;
  set.height = set.width = 28;
  set.classes = 10;
  for (int i = 0; i < meters; ++i) {
    auto s = gen->render(100 + i, i % 2 ? meter::Style::odometer : meter::Style::seven_segment);
    EXPECT_TRUE(s.ok());
    for (size_t d = 0; d < s->digits.size(); ++d) {
      set.pixels.insert(set.pixels.end(), s->digits[d].pixels.begin(), s->digits[d].pixels.end());
      set.labels.push_back(s->labels[d]);
    }
  }
  return set;
}

// Weights from the seed, and batch-norm statistics and affine terms away from the identity, so
// a batch norm exported wrong shows.
constexpr search::InputShape kDigit{1, 28, 28, 10};

Net network(const search::ArchSpec& spec, uint64_t seed) {
  Net net(spec, kDigit);
  init_weights(net, seed);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(0, 1);
  torch::NoGradGuard no_grad;
  for (auto& m : *net->blocks()) {
    auto b = std::dynamic_pointer_cast<BlockImpl>(m.ptr());
    if (!b->bn()) continue;
    auto& bn = b->bn();
    for (int64_t c = 0; c < bn->running_mean.size(0); ++c) {
      bn->running_mean[c] = u(rng) - 0.5F;
      bn->running_var[c] = 0.5F + u(rng);
      bn->weight[c] = 0.5F + u(rng);
      bn->bias[c] = 0.6F * u(rng) - 0.3F;
    }
  }
  net->eval();
  return net;
}

torch::Tensor edgenas_logits(Net& net, const data::ImageSet& set) {
  torch::NoGradGuard no_grad;
  return net->forward(to_tensor(set));
}

// OpenCV's logits for the images, fed as the file's contract says: pixel values 0..255, NCHW.
torch::Tensor opencv_logits(const std::string& onnx_bytes, const data::ImageSet& set) {
  auto cv_net = cv::dnn::readNetFromONNX(onnx_bytes.data(), onnx_bytes.size());
  const int dims[] = {static_cast<int>(set.size()), 1, 28, 28};
  cv::Mat blob(4, dims, CV_32F);
  auto* p = blob.ptr<float>();
  for (size_t i = 0; i < set.pixels.size(); ++i) p[i] = static_cast<float>(set.pixels[i]);
  cv_net.setInput(blob, "pixels");
  cv::Mat out = cv_net.forward();
  return torch::from_blob(out.ptr<float>(), {out.size[0], out.size[1]}, torch::kFloat32).clone();
}

// The largest |difference| between the two runtimes' logits, relative to the logits' scale
// (at least 1): float32 sums over up to ten layers differ in their last bits.
double max_difference(const std::string& onnx_bytes, Net& net, const data::ImageSet& set) {
  const auto ours = edgenas_logits(net, set), theirs = opencv_logits(onnx_bytes, set);
  EXPECT_EQ(ours.sizes(), theirs.sizes());
  const double scale = std::max(1.0, ours.abs().max().item<double>());
  return (ours - theirs).abs().max().item<double>() / scale;
}

// The exported file of `net` as ONNX's own message (empty when the export failed).
onnx::ModelProto exported_proto(Net& net, const search::ArchSpec& spec) {
  onnx::ModelProto m;
  auto bytes = onnx_model_bytes(net, spec, kDigit);
  if (!bytes.ok()) {
    ADD_FAILURE() << bytes.error().message;
    return m;
  }
  EXPECT_TRUE(m.ParseFromString(*bytes));
  return m;
}

search::ArchSpec every_block_kind(int head_width) {
  using search::Activation;
  search::ArchSpec a;
  a.blocks = {{16, 3, 1, true, false, Activation::relu},    // conv, batch norm, relu
              {16, 5, 1, false, true, Activation::hswish},  // bias, h-swish, residual
              {32, 7, 2, true, false, Activation::hswish},  // stride 2
              {32, 1, 1, true, true, Activation::relu},     // 1×1, residual after batch norm
              {8, 3, 2, false, false, Activation::relu}};
  a.head_width = head_width;
  return a;
}

TEST(Onnx, EveryBlockKindRunsTheSameInOpenCv) {
  const auto digits = meter_digits(4);
  for (int head : {0, 32}) {
    const auto spec = every_block_kind(head);
    auto net = network(spec, 7);
    auto bytes = onnx_model_bytes(net, spec, kDigit);
    ASSERT_TRUE(bytes.ok()) << bytes.error().message;
    EXPECT_LT(max_difference(*bytes, net, digits), 1e-4) << spec.key();
  }
}

TEST(Onnx, NetworksSampledAcrossTheSpaceRunTheSameInOpenCv) {
  const auto digits = meter_digits(2);
  const search::SearchSpace space(
      {hp::kMaxLayers, hp::kMaxFilters, hp::kMaxKernel, Loss::cross_entropy, 1});
  std::mt19937_64 rng(11);
  double worst = 0;
  for (int i = 0; i < 12; ++i) {
    const auto spec = space.sample(rng);
    auto net = network(spec, 100 + static_cast<uint64_t>(i));
    auto bytes = onnx_model_bytes(net, spec, kDigit);
    ASSERT_TRUE(bytes.ok()) << spec.key() << ": " << bytes.error().message;
    const double d = max_difference(*bytes, net, digits);
    EXPECT_LT(d, 1e-4) << spec.key();
    worst = std::max(worst, d);
  }
  std::printf("largest difference over 12 sampled networks: %.2e of the logits' scale\n", worst);
}

// The comparison can fail: the same file with its first ReLU turned into a sigmoid differs.
TEST(Onnx, AWrongFileIsCaughtByTheComparison) {
  const auto digits = meter_digits(2);
  const auto spec = every_block_kind(32);
  auto net = network(spec, 7);
  onnx::ModelProto m = exported_proto(net, spec);
  for (auto& n : *m.mutable_graph()->mutable_node()) {
    if (n.op_type() != "Relu") continue;
    n.set_op_type("Sigmoid");
    break;
  }
  std::string wrong;
  ASSERT_TRUE(m.SerializeToString(&wrong));
  EXPECT_GT(max_difference(wrong, net, digits), 1e-2);
}

// What a runtime that knows nothing of edgenas needs is in the file.
TEST(Onnx, TheFileStatesItsInputContract) {
  const auto spec = every_block_kind(0);
  auto net = network(spec, 3);
  const onnx::ModelProto m = exported_proto(net, spec);
  ASSERT_EQ(m.opset_import_size(), 1);
  EXPECT_EQ(m.opset_import(0).version(), kOnnxOpset);
  ASSERT_EQ(m.graph().input_size(), 1);
  EXPECT_EQ(m.graph().input(0).name(), "pixels");
  EXPECT_EQ(m.graph().output(0).name(), "logits");
  std::map<std::string, std::string> props;
  for (const auto& p : m.metadata_props()) props[p.key()] = p.value();
  EXPECT_EQ(props["edgenas.architecture"], spec.key());
  EXPECT_EQ(props["edgenas.input_height"], "28");
  EXPECT_EQ(props["edgenas.input_channels"], "1");
  EXPECT_EQ(props["edgenas.class_labels"], "0,1,2,3,4,5,6,7,8,9");
  EXPECT_NE(props["edgenas.input"].find("0..255"), std::string::npos);
}

}  // namespace
}  // namespace edgenas::ml
