// edgenas-meter-gen: writes synthetic meter images and their digit crops.
//   OUT/meters/NNNNNN.png + OUT/meters/readings.csv   (file,reading)
//   OUT/digits/NNNNNN_D.png + OUT/digits/labels.csv   (file,label) → loadable as folder:OUT/digits
//   OUT/digits/rolling.csv   (file,turned): the crops of rolling drums and how far each has turned
//                            toward its next digit (the label flips at 0.5)
#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "simulations/meter/meter.hpp"

using namespace edgenas;

int main(int argc, char** argv) {
  CLI::App app{
      "edgenas-meter-gen: synthetic electricity-meter images with readings, and digit crops with "
      "labels.\n"
      "Deterministic: the same --seed gives the same files."};
  std::string out, style = "mixed";
  int count = 1000, digits = 6, crop = 28;
  uint64_t seed = 1;
  bool clean = false;
  app.add_option("-o,--out", out, "output directory")->required();
  app.add_option("-n,--count", count, "number of meter images")
      ->capture_default_str()
      ->check(CLI::Range(1, 10'000'000));
  app.add_option("--seed", seed, "seed")->capture_default_str();
  app.add_option("--style", style, "seven_segment, odometer or mixed")
      ->capture_default_str()
      ->check(CLI::IsMember({"seven_segment", "odometer", "mixed"}));
  app.add_option("--digits", digits, "digits per meter")
      ->capture_default_str()
      ->check(CLI::Range(1, 12));
  app.add_option("--crop", crop, "digit crop size in pixels")
      ->capture_default_str()
      ->check(CLI::Range(8, 128));
  double damage_scale = 1;
  auto* clean_flag =
      app.add_flag("--clean", clean, "no noise, blur, rotation, perspective, lighting or glare");
  app.add_option("--damage", damage_scale,
                 "scale of every damage (1: the default camera; 2.5: poor light, more blur, "
                 "tilt and glare; 0 is --clean)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 5.0))
      ->excludes(clean_flag);
  CLI11_PARSE(app, argc, argv);

  auto gen = meter::Generator::create({}, digits, crop);
  if (!gen) {
    std::cerr << "edgenas-meter-gen: " << gen.error().message << "\n";
    return 1;
  }
  const meter::Damage damage = meter::Damage{}.scaled(clean ? 0 : damage_scale);
  std::error_code ec;
  std::filesystem::create_directories(out + "/meters", ec);
  std::filesystem::create_directories(out + "/digits", ec);
  if (ec) {
    std::cerr << "edgenas-meter-gen: cannot create " << out << ": " << ec.message() << "\n";
    return 1;
  }
  std::ofstream readings(out + "/meters/readings.csv"), labels(out + "/digits/labels.csv"),
      rolling(out + "/digits/rolling.csv");
  readings << "file,reading\n";
  labels << "file,label\n";
  rolling << "file,turned\n";
  for (int n = 0; n < count; ++n) {
    const auto st = style == "odometer" || (style == "mixed" && n % 2)
                        ? meter::Style::odometer
                        : meter::Style::seven_segment;
    auto s = gen->render(seed * 1'000'003 + static_cast<uint64_t>(n), st, damage);
    if (!s) {
      std::cerr << "edgenas-meter-gen: " << s.error().message << "\n";
      return 1;
    }
    char name[32];
    std::snprintf(name, sizeof name, "%06d", n);
    if (auto w = data::write_png(out + "/meters/" + name + ".png", s->image); !w) {
      std::cerr << "edgenas-meter-gen: " << w.error().message << "\n";
      return 1;
    }
    readings << name << ".png," << s->reading << "\n";
    for (size_t i = 0; i < s->digits.size(); ++i) {
      const std::string file = std::string(name) + "_" + std::to_string(i) + ".png";
      if (auto w = data::write_png(out + "/digits/" + file, s->digits[i]); !w) {
        std::cerr << "edgenas-meter-gen: " << w.error().message << "\n";
        return 1;
      }
      labels << file << "," << s->labels[i] << "\n";
      if (s->turned[i] > 0) rolling << file << "," << s->turned[i] << "\n";
    }
    if ((n + 1) % 500 == 0 || n + 1 == count)
      std::cerr << "\r" << n + 1 << "/" << count << " meters" << std::flush;
  }
  readings.flush(), labels.flush(), rolling.flush();
  if (!readings || !labels || !rolling) {
    std::cerr << "\nedgenas-meter-gen: cannot write the CSV files in " << out << "\n";
    return 1;
  }
  std::cerr << "\nwrote " << count << " meters and " << count * digits << " digit crops to " << out
            << "\n";
  return 0;
}
