// How much memory this machine has, and sizes written for people. Radius checks a
// request against it before allocating (a batch, the decoded-image cache), so that a
// user who asks for too much learns how much was needed and what would fit, instead
// of meeting std::bad_alloc or the kernel's OOM killer.
#pragma once
#include <cstdint>
#include <string>

namespace radius {

// Physical memory in bytes (sysconf), or 0 when unknown.
int64_t physical_memory_bytes();

// What Radius lets one run take by default: 80 % of physical memory (the rest for the
// system and the other processes); 0 when unknown (no check).
int64_t default_memory_budget();

// "614.3 MB", "93.1 GB": decimal units, one decimal.
std::string human_bytes(int64_t bytes);

}  // namespace radius
