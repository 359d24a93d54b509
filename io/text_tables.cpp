// io/text_tables.cpp — see text_tables.hpp.
#include "io/text_tables.hpp"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace lensflow::io {
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// A UTF-8 byte-order mark (spreadsheet exports) is not part of the first field.
void strip_bom(std::string& line) {
  if (line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);
}

bool parses_as_number(const std::string& f) {
  if (f.empty()) return false;
  char* end = nullptr;
  std::strtod(f.c_str(), &end);
  return end && *end == '\0';
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string f;
  while (std::getline(ss, f, ',')) out.push_back(trim(f));
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

}  // namespace

CsvTable read_csv_table(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open input file " + path);
  CsvTable c;
  std::string line;
  std::size_t ln = 0;
  while (std::getline(in, line)) {
    ++ln;
    if (ln == 1) strip_bom(line);
    if (trim(line).empty()) continue;
    if (c.header.empty()) {
      c.header = split(line);
      for (std::size_t k = 0; k < c.header.size(); ++k)
        if (parses_as_number(c.header[k]))
          throw std::runtime_error(path + ": line " + std::to_string(ln) + " is not a header (field " +
                                   std::to_string(k + 1) + " is the number '" + c.header[k] +
                                   "'); the first line must name the columns");
      continue;
    }
    auto f = split(line);
    if (f.size() != c.header.size())
      throw std::runtime_error(path + ": line " + std::to_string(ln) + " has " + std::to_string(f.size()) +
                               " fields, the header has " + std::to_string(c.header.size()));
    c.rows.push_back(std::move(f));
    c.line.push_back(ln);
  }
  if (c.header.empty()) throw std::runtime_error(path + ": empty file (no header line)");
  return c;
}

int csv_column(const CsvTable& c, const std::string& name, bool required, const std::string& path) {
  for (std::size_t k = 0; k < c.header.size(); ++k)
    if (c.header[k] == name) return static_cast<int>(k);
  if (required) throw std::runtime_error(path + ": missing required column '" + name + "'");
  return -1;
}

double csv_number(const CsvTable& c, std::size_t r, int col, const char* rule, bool (*ok)(double),
                  const std::string& path) {
  const std::string& txt = c.rows[r][static_cast<std::size_t>(col)];
  const std::string where = path + ": line " + std::to_string(c.line[r]) + ", field '" +
                            c.header[static_cast<std::size_t>(col)] + "' = '" + txt + "': ";
  std::size_t used = 0;
  double v = 0.0;
  try {
    v = std::stod(txt, &used);
  } catch (const std::exception&) {
    throw std::runtime_error(where + "not a number");
  }
  if (used != txt.size()) throw std::runtime_error(where + "not a number");
  if (!std::isfinite(v)) throw std::runtime_error(where + "not a finite number");
  if (!ok(v)) throw std::runtime_error(where + rule);
  return v;
}

std::vector<double> read_times_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open times file " + path);
  std::vector<double> times;
  std::string line;
  std::size_t ln = 0;
  while (std::getline(in, line)) {
    ++ln;
    if (ln == 1) strip_bom(line);
    const std::string v = trim(line);
    if (v.empty()) continue;
    std::size_t used = 0;
    double x = 0.0;
    try {
      x = std::stod(v, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != v.size() || !std::isfinite(x))
      throw std::runtime_error(path + ": line " + std::to_string(ln) + ": '" + v + "' is not a finite time");
    times.push_back(x);
  }
  if (times.empty()) throw std::runtime_error(path + ": no times");
  return times;
}

}  // namespace lensflow::io
