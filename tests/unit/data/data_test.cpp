#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "common/data/dataset.hpp"
#include "common/data/images.hpp"

namespace edgenas::data {
namespace {
namespace fs = std::filesystem;

std::string dir() {
  static const std::string d = [] {
    auto p = fs::path(::testing::TempDir()) / ("data-test-" + std::to_string(::getpid()));
    fs::remove_all(p);
    fs::create_directories(p);
    return p.string();
  }();
  return d;
}

std::vector<uint8_t> idx(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> b = {0, 0, 0x08, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(d >> s));
  }
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

std::string write(const std::string& name, const std::vector<uint8_t>& bytes, bool gzip = false) {
  std::string p = dir() + "/" + name;
  if (gzip) {
    gzFile f = gzopen(p.c_str(), "wb");
    gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
  } else {
    std::ofstream(p, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
  }
  return p;
}

// 6 images of 2×3, labels 0,1,2,0,1,2; pixel value = image index.
std::vector<uint8_t> images() {
  std::vector<uint8_t> px;
  for (int i = 0; i < 6; ++i) px.insert(px.end(), 6, static_cast<uint8_t>(i));
  return idx({6, 2, 3}, px);
}

TEST(Idx, LoadsPlainAndGzip) {
  for (bool gz : {false, true}) {
    auto s = load_idx(write("img" + std::to_string(gz), images(), gz),
                      write("lab" + std::to_string(gz), idx({6}, {0, 1, 2, 0, 1, 2}), gz));
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(s->size(), 6u);
    EXPECT_EQ(s->height, 2);
    EXPECT_EQ(s->width, 3);
    EXPECT_EQ(s->classes, 3);
    EXPECT_EQ(s->pixels[5 * 6], 5);
  }
}

TEST(Idx, CorruptTruncatedAndInconsistentFilesAreClearErrors) {
  auto labels = write("lab", idx({6}, {0, 1, 2, 0, 1, 2}));
  auto expect_error = [](const Expected<ImageSet>& r, const std::string& needle) {
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
  };
  auto img = images();
  expect_error(load_idx(write("trunc", std::vector<uint8_t>(img.begin(), img.end() - 5)), labels),
               "truncated");
  auto badmagic = img;
  badmagic[0] = 7;
  expect_error(load_idx(write("magic", badmagic), labels), "magic");
  expect_error(load_idx(write("img", images()), write("lab5", idx({5}, {0, 1, 2, 0, 1}))),
               "5 labels for 6 images");
  expect_error(load_idx(write("img", images()), write("gap", idx({6}, {0, 2, 2, 0, 2, 0}))),
               "class 1 has no samples");
  expect_error(load_idx(dir() + "/missing", labels), "no such file");
  auto gz = write("gz", images(), true);
  std::vector<uint8_t> half;
  {
    std::ifstream in(gz, std::ios::binary);
    half.assign(std::istreambuf_iterator<char>(in), {});
  }
  half.resize(half.size() / 2);
  expect_error(load_idx(write("halfgz", half), labels), "gzip");
  expect_error(load_idx(write("vec", idx({6}, {1, 2, 3, 4, 5, 6})), labels), "N×H×W");
}

TEST(Images, PgmAndPngDecode) {
  Image img{3, 2, 1, {0, 50, 100, 150, 200, 250}};
  ASSERT_TRUE(write_pgm(dir() + "/a.pgm", img).ok());
  ASSERT_TRUE(write_png(dir() + "/a.png", img).ok());
  for (const char* f : {"/a.pgm", "/a.png"}) {
    std::ifstream in(dir() + f, std::ios::binary);
    std::vector<uint8_t> b((std::istreambuf_iterator<char>(in)), {});
    auto d = decode_image(b, f);
    ASSERT_TRUE(d.ok()) << d.error().message;
    EXPECT_EQ(d->width, 3);
    EXPECT_EQ(d->height, 2);
    EXPECT_EQ(d->pixels, img.pixels);
  }
  std::string p2 = "P2\n# comment\n2 1\n10\n0 10\n";
  auto d = decode_pgm(std::vector<uint8_t>(p2.begin(), p2.end()), "p2");
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->pixels, (std::vector<uint8_t>{0, 255}));
  std::string trunc = "P5\n4 4\n255\nabc";
  EXPECT_FALSE(decode_pgm(std::vector<uint8_t>(trunc.begin(), trunc.end()), "t").ok());
  std::vector<uint8_t> junk = {0x89, 'P', 'N', 'G', 1, 2, 3};
  EXPECT_FALSE(decode_image(junk, "junk").ok());
}

TEST(Folder, LoadsNamedLabelsAndRefusesMixedSizes) {
  const std::string d = dir() + "/folder";
  fs::create_directories(d);
  std::ofstream csv(d + "/labels.csv");
  csv << "file,label\n";
  for (int i = 0; i < 4; ++i) {
    Image img{4, 4, 1, std::vector<uint8_t>(16, static_cast<uint8_t>(i * 60))};
    ASSERT_TRUE(write_png(d + "/" + std::to_string(i) + ".png", img).ok());
    csv << i << ".png," << (i % 2 ? "seven" : "one") << "\n";
  }
  csv.close();
  auto s = load_spec("folder:" + d);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->size(), 4u);
  EXPECT_EQ(s->classes, 2);
  EXPECT_EQ(s->labels[0], 0);  // "one" < "seven"
  EXPECT_EQ(s->labels[1], 1);
  ASSERT_TRUE(write_png(d + "/big.png", Image{5, 4, 1, std::vector<uint8_t>(20, 0)}).ok());
  std::ofstream(d + "/labels.csv", std::ios::app) << "big.png,one\n";
  auto mixed = load_spec("folder:" + d);
  ASSERT_FALSE(mixed.ok());
  EXPECT_NE(mixed.error().message.find("differs"), std::string::npos);
  EXPECT_FALSE(load_spec("parquet:x").ok());
}

TEST(Split, StratifiedDeterministicAndDisjoint) {
  ImageSet s;
  s.height = s.width = 1;
  s.classes = 2;
  for (int i = 0; i < 100; ++i) {
    s.pixels.push_back(static_cast<uint8_t>(i));
    s.labels.push_back(i % 2);
  }
  auto a = split(s, 0.2, 0.1, 5), b = split(s, 0.2, 0.1, 5);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->train.size(), 70u);
  EXPECT_EQ(a->validation.size(), 20u);
  EXPECT_EQ(a->test.size(), 10u);
  EXPECT_EQ(a->test.pixels, b->test.pixels);
  int test_ones = 0;
  for (int l : a->test.labels) test_ones += l;
  EXPECT_EQ(test_ones, 5);  // stratified
  std::set<uint8_t> train(a->train.pixels.begin(), a->train.pixels.end());
  for (uint8_t p : a->test.pixels) EXPECT_FALSE(train.count(p));
  for (uint8_t p : a->validation.pixels) EXPECT_FALSE(train.count(p));
  EXPECT_FALSE(split(s, 0.5, 0.5, 1).ok());
}

TEST(Split, APrefixOfEveryPartHoldsEveryClass) {
  // A data set sorted by class (as an image folder often is): the first tenth of the training
  // part must still be a sample of all ten classes (the surrogate's collector trains on such a
  // prefix; before the parts were shuffled it saw half of the classes).
  ImageSet s;
  s.height = s.width = 1;
  s.classes = 10;
  for (int c = 0; c < 10; ++c) {
    for (int i = 0; i < 100; ++i) {
      s.pixels.push_back(static_cast<uint8_t>(i));
      s.labels.push_back(c);
    }
  }
  auto a = split(s, 0.15, 0.15, 1);
  ASSERT_TRUE(a.ok());
  for (const ImageSet* part : {&a->train, &a->validation, &a->test}) {
    const std::size_t n = std::max<std::size_t>(part->labels.size() / 3, 30);
    std::set<int> seen(part->labels.begin(), part->labels.begin() + static_cast<long>(n));
    EXPECT_EQ(seen.size(), 10u) << "in the first " << n << " of " << part->labels.size();
  }
}

}  // namespace
}  // namespace edgenas::data
