// Gives a worker thread its own CUDA stream, so the jobs of a `bench run --jobs N` pool overlap on
// one GPU instead of queueing on the default stream. Through c10's device-guard interface, so it
// needs no CUDA headers: in a CPU build (no CUDA backend registered) it reports failure.
#include <c10/core/Device.h>
#include <c10/core/Stream.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>

extern "C" {

// Makes a stream from libtorch's pool the calling thread's current stream on CUDA device `device`
// (libtorch keeps the current stream per thread). Returns 0, or -1 when CUDA is unusable here.
int ralbench_use_pool_stream(int device) {
  try {
    const c10::impl::DeviceGuardImplInterface* impl =
        c10::impl::getDeviceGuardImpl(c10::DeviceType::CUDA);
    c10::Device cuda(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(device));
    c10::Stream stream = impl->getStreamFromGlobalPool(cuda, /*isHighPriority=*/false);
    impl->exchangeStream(stream);
    return 0;
  } catch (...) {
    return -1;
  }
}

}
