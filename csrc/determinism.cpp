// The few libtorch context switches that tch does not expose, as a C ABI for src/device.rs.
#include <ATen/Context.h>
#include <ATen/Version.h>

#include <algorithm>
#include <cstring>
#include <string>

extern "C" {

// Turns deterministic algorithms (and deterministic cuDNN, benchmark mode off) on or off.
void ralbench_set_deterministic(bool on) {
  at::globalContext().setDeterministicAlgorithms(on, /*warn_only=*/false);
  at::globalContext().setDeterministicCuDNN(on);
  at::globalContext().setBenchmarkCuDNN(false);
}

// Whether deterministic algorithms are on, as libtorch sees it.
bool ralbench_deterministic() {
  return at::globalContext().deterministicAlgorithms();
}

// Copies the name of the CPU kernel family libtorch dispatches to ("AVX2", "AVX512", "DEFAULT"...)
// into buf (NUL-terminated, truncated to len - 1 bytes).
void ralbench_cpu_capability(char* buf, size_t len) {
  std::string name = at::get_cpu_capability();
  if (len == 0) return;
  size_t n = std::min(name.size(), len - 1);
  std::memcpy(buf, name.data(), n);
  buf[n] = '\0';
}

}
