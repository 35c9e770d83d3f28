// Reading numbers out of JSON documents we did not necessarily write (config.json,
// a checkpoint's state): nlohmann's get<int>() on 1e300 or -1 converts out of range,
// which is undefined behaviour (found by fuzzing, tests/fuzz/README.md). These refuse
// a value of the wrong kind or out of the type's range with a std::runtime_error naming
// the field.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <nlohmann/json.hpp>

namespace radius {

template <class T>
T json_integer(const nlohmann::json& v, const std::string& field) {
  static_assert(std::is_integral_v<T> && sizeof(T) <= 8);
  bool fits = false;
  if (v.is_number_unsigned()) {
    fits = v.get<uint64_t>() <= uint64_t(std::numeric_limits<T>::max());
  } else if (v.is_number_integer()) {
    const int64_t x = v.get<int64_t>();
    fits = std::is_signed_v<T> ? (x >= int64_t(std::numeric_limits<T>::min()) &&
                                  x <= int64_t(std::numeric_limits<T>::max()))
                               : (x >= 0 && uint64_t(x) <= uint64_t(std::numeric_limits<T>::max()));
  }
  if (!fits)
    throw std::runtime_error("'" + field + "' must be an integer in [" + std::to_string(std::numeric_limits<T>::min()) +
                             ", " + std::to_string(std::numeric_limits<T>::max()) + "], got a " + v.type_name() +
                             (v.is_number() ? " " + v.dump() : std::string()));
  return v.get<T>();
}

// v as a floating-point number of type T: a number whose magnitude T can hold (a float
// from 1e300 is undefined behaviour; nlohmann reads 1e999 as infinity). Integers convert.
template <class T>
T json_real(const nlohmann::json& v, const std::string& field) {
  static_assert(std::is_floating_point_v<T>);
  const double x = v.is_number() ? v.get<double>() : 0.0;
  if (!v.is_number() || !(std::abs(x) <= double(std::numeric_limits<T>::max())))
    throw std::runtime_error("'" + field + "' must be a finite number" +
                             (sizeof(T) < sizeof(double) ? " within a float's range" : "") + ", got a " +
                             v.type_name() + (v.is_number() ? " " + v.dump() : std::string()));
  return T(x);
}

// j's value at `key`: j must be an object that holds it.
inline const nlohmann::json& json_field(const nlohmann::json& j, const std::string& key) {
  if (!j.is_object()) throw std::runtime_error("expected a JSON object with '" + key + "', got a " + j.type_name());
  const auto it = j.find(key);
  if (it == j.end()) throw std::runtime_error("'" + key + "' is missing");
  return *it;
}

// j's value at `key` as an integer of type T.
template <class T>
T json_integer_at(const nlohmann::json& j, const std::string& key) {
  return json_integer<T>(json_field(j, key), key);
}

// j[key] as an integer of type T, or `fallback` when the key is absent (older files).
template <class T>
T json_integer_value(const nlohmann::json& j, const std::string& key, T fallback) {
  return j.contains(key) ? json_integer<T>(j.at(key), key) : fallback;
}

}  // namespace radius
