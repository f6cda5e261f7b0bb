#pragma once
// A table of NAS-Bench-201 cells with their accuracies and measured latencies (the schema of
// ../shared/data/nb201/nb201_latency.csv): a column `arch_str` with each cell in the benchmark's
// string form, every column named `*_ms` a device (batch-1 latency in ms), every column named
// `acc_*` a data set (test accuracy in %), optional `params_mb_c10` / `flops_m_c10` (checked
// against the space's own count when present). Other columns are ignored. Devices and data sets
// come from the header: a table of other devices works without code changes.
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/model/model.hpp"
#include "common/search/nb201_space.hpp"
#include "common/util/expected.hpp"

namespace edgenas::sim {

struct Nb201Table {
  std::string path;
  std::vector<std::string> devices;   // the `*_ms` columns without the suffix, in file order
  std::vector<std::string> datasets;  // the `acc_*` columns without the prefix
  std::vector<search::Nb201Cell> cells;
  std::vector<std::vector<double>> latency_ms;  // [device][row]
  std::vector<std::vector<double>> accuracy;    // [dataset][row], in %
  std::vector<int> row_of_index;                // Nb201Cell::index() → row, −1 when absent

  std::size_t rows() const { return cells.size(); }
  // A device by its column name with or without `_ms`.
  std::optional<int> device(std::string_view name) const;
  // A data set by its column name with or without `acc_`, or by the benchmark's names:
  // cifar10 (`c10`), cifar100 (`c100`), imagenet16-120 (`in16`), matched as a prefix.
  std::optional<int> dataset(std::string_view name) const;
  std::optional<int> row(const search::Nb201Cell& c) const;
};

// Strict: a missing `arch_str` column, no device or data set column, an unreadable cell, a
// repeated cell, a missing or non-finite or negative number, or a params/FLOPs value that
// disagrees with the space's count are errors naming the line and column.
Expected<Nb201Table> load_nb201_table(const std::string& path);
// The same from text (`origin` names it in errors).
Expected<Nb201Table> parse_nb201_table(std::istream& in, const std::string& origin);

// The shape of a data set the context reports, for the benchmark's three (nullopt otherwise).
std::optional<DatasetShape> nb201_dataset_shape(std::string_view dataset_column);

}  // namespace edgenas::sim
