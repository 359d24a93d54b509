// io/text_tables.hpp — the text inputs of `lensflow-magnify`: a CSV table whose first line names
// the columns (fields trimmed; a UTF-8 byte-order mark ignored; a header field that is a number is
// refused), and a file of times, one number per line (blank lines skipped). Errors name the file,
// the line and the field.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace lensflow::io {

struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  // raw fields, trimmed
  std::vector<std::size_t> line;               // 1-based line number of each row
};

// std::runtime_error for a missing or empty file, a numeric header field or a row whose field
// count differs from the header's.
CsvTable read_csv_table(const std::string& path);

// Index of column `name`; -1 when absent and not required (std::runtime_error when required).
int csv_column(const CsvTable& c, const std::string& name, bool required, const std::string& path);

// Field `col` of row r as a finite number satisfying `ok`, else std::runtime_error naming the line,
// the field and `rule` (or "not a number" / "not a finite number").
double csv_number(const CsvTable& c, std::size_t r, int col, const char* rule, bool (*ok)(double),
                  const std::string& path);

// The finite numbers of a file of one time per line (std::runtime_error naming the line of
// anything else, or for a file with none).
std::vector<double> read_times_file(const std::string& path);

}  // namespace lensflow::io
