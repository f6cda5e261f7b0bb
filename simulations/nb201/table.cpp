#include "simulations/nb201/table.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

#include "common/util/errors.hpp"

namespace edgenas::sim {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> f;
  std::stringstream ss(line);
  std::string cell;
  while (std::getline(ss, cell, ',')) f.push_back(cell);
  if (!line.empty() && line.back() == ',') f.emplace_back();
  if (!f.empty() && !f.back().empty() && f.back().back() == '\r') f.back().pop_back();
  return f;
}

// Where each kind of column is.
struct Layout {
  int arch = -1, params = -1, flops = -1;
  std::vector<int> devices, datasets;
};

Expected<Layout> read_header(const std::vector<std::string>& h, Nb201Table& t) {
  Layout l;
  for (int i = 0; i < static_cast<int>(h.size()); ++i) {
    const std::string& c = h[static_cast<std::size_t>(i)];
    if (c == "arch_str") l.arch = i;
    if (c == "params_mb_c10") l.params = i;
    if (c == "flops_m_c10") l.flops = i;
    if (ends_with(c, "_ms") && c.size() > 3) {
      l.devices.push_back(i);
      t.devices.push_back(c.substr(0, c.size() - 3));
    }
    if (c.rfind("acc_", 0) == 0 && c.size() > 4) {
      l.datasets.push_back(i);
      t.datasets.push_back(c.substr(4));
    }
  }
  if (l.arch < 0) return Error{errc::kBadTable, t.path + ":1: no arch_str column"};
  if (l.devices.empty())
    return Error{errc::kBadTable, t.path + ":1: no device column (a name ending in _ms)"};
  if (l.datasets.empty())
    return Error{errc::kBadTable, t.path + ":1: no data set column (a name starting with acc_)"};
  return l;
}

Expected<double> number(const std::vector<std::string>& f, int col, const std::string& where,
                        const std::vector<std::string>& header) {
  const std::string what = where + " column " + header[static_cast<std::size_t>(col)];
  if (col >= static_cast<int>(f.size()) || f[static_cast<std::size_t>(col)].empty())
    return Error{errc::kBadTable, what + ": missing value"};
  const std::string& s = f[static_cast<std::size_t>(col)];
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v) || v < 0)
    return Error{errc::kBadTable, what + ": '" + s + "' is not a finite number >= 0"};
  return v;
}

// The optional params/FLOPs columns must agree with the space's count (to 0.1 %).
Status check_cost(const search::Nb201Cell& c, const std::vector<std::string>& f, const Layout& l,
                  const std::string& where, const std::vector<std::string>& header) {
  const auto cost = search::nb201_cost(c);
  for (auto [col, mine] : {std::pair{l.params, cost.params_m}, std::pair{l.flops, cost.flops_m}}) {
    if (col < 0) continue;
    auto v = number(f, col, where, header);
    if (!v) return v.error();
    if (std::abs(*v - mine) > 1e-3 * std::max(1.0, mine))
      return Error{errc::kBadTable, where + " column " + header[static_cast<std::size_t>(col)] +
                                        ": " + f[static_cast<std::size_t>(col)] +
                                        " but the cell counts " + std::to_string(mine)};
  }
  return ok_status();
}

Status read_row(const std::vector<std::string>& f, const Layout& l, const std::string& where,
                const std::vector<std::string>& header, Nb201Table& t) {
  if (l.arch >= static_cast<int>(f.size()))
    return Error{errc::kBadTable, where + ": " + std::to_string(f.size()) +
                                      " columns, the header has " + std::to_string(header.size())};
  const auto cell = search::Nb201Cell::from_key(f[static_cast<std::size_t>(l.arch)]);
  if (!cell)
    return Error{errc::kBadTable,
                 where + ": arch_str '" + f[static_cast<std::size_t>(l.arch)] + "' is not a cell"};
  auto& slot = t.row_of_index[static_cast<std::size_t>(cell->index())];
  if (slot >= 0)
    return Error{errc::kBadTable,
                 where + ": cell " + cell->key() + " repeats row " + std::to_string(slot + 2)};
  if (auto s = check_cost(*cell, f, l, where, header); !s) return s;
  for (std::size_t d = 0; d < l.devices.size(); ++d) {
    auto v = number(f, l.devices[d], where, header);
    if (!v) return v.error();
    t.latency_ms[d].push_back(*v);
  }
  for (std::size_t a = 0; a < l.datasets.size(); ++a) {
    auto v = number(f, l.datasets[a], where, header);
    if (!v) return v.error();
    if (*v > 100) return Error{errc::kBadTable, where + ": an accuracy above 100 %"};
    t.accuracy[a].push_back(*v);
  }
  slot = static_cast<int>(t.cells.size());
  t.cells.push_back(*cell);
  return ok_status();
}

}  // namespace

std::optional<int> Nb201Table::device(std::string_view name) const {
  if (ends_with(name, "_ms")) name.remove_suffix(3);
  for (std::size_t i = 0; i < devices.size(); ++i)
    if (devices[i] == name) return static_cast<int>(i);
  return std::nullopt;
}

std::optional<int> Nb201Table::dataset(std::string_view name) const {
  if (name.rfind("acc_", 0) == 0) name.remove_prefix(4);
  for (std::size_t i = 0; i < datasets.size(); ++i)
    if (datasets[i] == name) return static_cast<int>(i);
  const std::pair<std::string_view, std::string_view> aliases[] = {
      {"cifar10", "c10"}, {"cifar100", "c100"}, {"imagenet16-120", "in16"}};
  for (auto [long_name, short_name] : aliases) {
    if (name != long_name) continue;
    for (std::size_t i = 0; i < datasets.size(); ++i)
      if (datasets[i] == short_name || datasets[i].rfind(std::string(short_name) + "_", 0) == 0)
        return static_cast<int>(i);
  }
  return std::nullopt;
}

std::optional<int> Nb201Table::row(const search::Nb201Cell& c) const {
  const int r = row_of_index[static_cast<std::size_t>(c.index())];
  return r >= 0 ? std::optional<int>(r) : std::nullopt;
}

Expected<Nb201Table> load_nb201_table(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{errc::kNotFound, "cannot read the NAS-Bench-201 table " + path};
  return parse_nb201_table(in, path);
}

Expected<Nb201Table> parse_nb201_table(std::istream& in, const std::string& path) {
  Nb201Table t;
  t.path = path;
  t.row_of_index.assign(15'625, -1);
  std::string line;
  if (!std::getline(in, line)) return Error{errc::kBadTable, path + ": empty file"};
  const auto header = split_csv_line(line);
  auto layout = read_header(header, t);
  if (!layout) return layout.error();
  t.latency_ms.resize(t.devices.size());
  t.accuracy.resize(t.datasets.size());
  for (int n = 2; std::getline(in, line); ++n) {
    if (line.empty() || line == "\r") continue;
    if (auto s = read_row(split_csv_line(line), *layout, path + ":" + std::to_string(n), header, t);
        !s)
      return s.error();
  }
  if (t.cells.empty()) return Error{errc::kBadTable, path + ": no rows"};
  return t;
}

std::optional<DatasetShape> nb201_dataset_shape(std::string_view column) {
  DatasetShape d;
  d.channels = 3;
  if (column.rfind("c100", 0) == 0) {
    d.classes = 100, d.image_h = d.image_w = 32, d.samples = 50'000;
  } else if (column.rfind("c10", 0) == 0) {
    d.classes = 10, d.image_h = d.image_w = 32, d.samples = 50'000;
  } else if (column.rfind("in16", 0) == 0) {
    d.classes = 120, d.image_h = d.image_w = 16, d.samples = 151'700;
  } else {
    return std::nullopt;
  }
  return d;
}

}  // namespace edgenas::sim
