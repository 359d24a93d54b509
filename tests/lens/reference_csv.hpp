// tests/lens/reference_csv.hpp — reads the reference CSV files of tests/data (a header line of
// column names, then numeric rows) into columns addressed by name.
#pragma once
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace lensflow::test {

struct CsvTable {
  std::map<std::string, std::vector<double>> col;
  std::size_t rows = 0;
  const std::vector<double>& operator[](const std::string& name) const {
    auto it = col.find(name);
    if (it == col.end()) throw std::runtime_error("reference CSV has no column " + name);
    return it->second;
  }
};

inline CsvTable read_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::string line;
  std::getline(in, line);
  std::vector<std::string> names;
  {
    std::stringstream ss(line);
    std::string name;
    while (std::getline(ss, name, ',')) names.push_back(name);
  }
  CsvTable t;
  std::vector<std::vector<double>*> cols;
  for (const auto& n : names) cols.push_back(&t.col[n]);
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::stringstream ss(line);
    std::string field;
    std::size_t k = 0;
    while (std::getline(ss, field, ',') && k < cols.size()) cols[k++]->push_back(std::stod(field));
    if (k != cols.size()) throw std::runtime_error(path + ": short row " + std::to_string(t.rows + 2));
    ++t.rows;
  }
  return t;
}

inline std::string data_path(const std::string& file) { return std::string(LENSFLOW_TEST_DATA) + "/" + file; }

}  // namespace lensflow::test
