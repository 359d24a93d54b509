// dist/pack.hpp — arrays of plain values packed into one byte message and read back in the same
// order (for Comm::send/recv/broadcast). Reading past the end or into a vector of another element
// size is an error (std::runtime_error), never a silent wrong number.
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace lensflow::dist {

class Packer {
 public:
  template <class T>
  Packer& put(const std::vector<T>& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    const uint64_t header[2] = {uint64_t(v.size()), uint64_t(sizeof(T))};
    append(header, sizeof header);
    append(v.data(), v.size() * sizeof(T));
    return *this;
  }
  Packer& put(const std::string& s) { return put(std::vector<char>(s.begin(), s.end())); }
  std::vector<char>& bytes() { return bytes_; }

 private:
  void append(const void* p, std::size_t n) {
    const char* c = static_cast<const char*>(p);
    bytes_.insert(bytes_.end(), c, c + n);
  }
  std::vector<char> bytes_;
};

class Unpacker {
 public:
  explicit Unpacker(const std::vector<char>& bytes) : b_(bytes) {}
  template <class T>
  std::vector<T> get() {
    uint64_t header[2];
    take(header, sizeof header);
    if (header[1] != sizeof(T))
      throw std::runtime_error("dist: message field of " + std::to_string(header[1]) + "-byte values read as " +
                               std::to_string(sizeof(T)) + "-byte values");
    std::vector<T> v(header[0]);
    take(v.data(), v.size() * sizeof(T));
    return v;
  }
  std::string get_string() {
    const auto c = get<char>();
    return std::string(c.begin(), c.end());
  }
  bool done() const { return pos_ == b_.size(); }

 private:
  void take(void* p, std::size_t n) {
    if (n > b_.size() - pos_) throw std::runtime_error("dist: truncated message");
    if (n) std::memcpy(p, b_.data() + pos_, n);
    pos_ += n;
  }
  const std::vector<char>& b_;
  std::size_t pos_ = 0;
};

}  // namespace lensflow::dist
