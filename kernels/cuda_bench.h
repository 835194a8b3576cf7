/* cuda_bench.h: what kernels/cuda_backend.cu offers `tumorfield bench` (host/bench.c) besides
 * the backend itself: a device-to-device copy bandwidth measured on the solver's device, and a
 * device-wide synchronisation so the host clock can bracket asynchronous steps. Only in builds
 * with TF_HAVE_CUDA. */
#ifndef TF_CUDA_BENCH_H
#define TF_CUDA_BENCH_H

#include "tf_status.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Copy a device buffer of `bytes` into another `reps` times (cudaMemcpyAsync device to device,
 * one warm-up copy first), timed with CUDA events; *bytes_per_s is the median over the copies
 * of (bytes read + bytes written) / time. Allocates and frees 2 * bytes of device memory. */
tf_status tf_cuda_copy_bandwidth(size_t bytes, int reps, double *bytes_per_s);

/* Wait for all work on the current device (cudaDeviceSynchronize). */
tf_status tf_cuda_synchronize(void);

#ifdef __cplusplus
}
#endif

#endif
