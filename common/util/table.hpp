#pragma once
// Plain-text tables for the CLIs: columns sized to their widest cell. Cells are escaped
// (invalid UTF-8 and control bytes as \xNN): they may hold text an agent sent.
#include <iostream>
#include <string>
#include <vector>

#include "common/util/utf8.hpp"

namespace edgenas {

inline void print_table(std::ostream& os, const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& raw_rows) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : raw_rows) {
    rows.emplace_back();
    for (const auto& cell : r) rows.back().push_back(utf8::printable(cell, 4096));
  }
  std::vector<std::size_t> width(header.size());
  for (std::size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < r.size() && i < width.size(); ++i)
      width[i] = std::max(width[i], r[i].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (std::size_t i = 0; i < width.size(); ++i) {
      std::string c = i < cells.size() ? cells[i] : "";
      if (i + 1 < width.size()) c.resize(width[i], ' ');
      out += c;
      if (i + 1 < width.size()) out += "  ";
    }
    os << out << "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
}

}  // namespace edgenas
