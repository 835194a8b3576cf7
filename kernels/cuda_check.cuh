/* cuda_check.cuh: one checking macro per library for the CUDA backend. Each names the failing
 * call, and TF_ERROR records the file and line; they return a tf_status from the enclosing
 * function (never exit). A launch is checked with TF_CUDA_LAUNCH right after it, so a bad
 * configuration is reported at the kernel that caused it rather than at a later call. */
#ifndef TF_CUDA_CHECK_CUH
#define TF_CUDA_CHECK_CUH

#include "tf_status.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>

static inline tf_status tf_cuda_status_of(cudaError_t e)
{
    return e == cudaErrorMemoryAllocation ? TF_ERR_NOMEM : TF_ERR_INTERNAL;
}

static inline tf_status tf_cublas_status_of(cublasStatus_t e)
{
    return e == CUBLAS_STATUS_ALLOC_FAILED ? TF_ERR_NOMEM : TF_ERR_INTERNAL;
}

#define TF_CUDA(call)                                                                          \
    do {                                                                                       \
        const cudaError_t tf_cu_e_ = (call);                                                   \
        if (tf_cu_e_ != cudaSuccess)                                                           \
            return TF_ERROR(tf_cuda_status_of(tf_cu_e_), "CUDA: %s failed: %s (%s)", #call,     \
                            cudaGetErrorName(tf_cu_e_), cudaGetErrorString(tf_cu_e_));         \
    } while (0)

/* After every kernel launch: a launch error (bad configuration, too much shared memory) or an
 * earlier asynchronous fault, named with the kernel. */
#define TF_CUDA_LAUNCH(kernel_name)                                                            \
    do {                                                                                       \
        const cudaError_t tf_cu_e_ = cudaGetLastError();                                       \
        if (tf_cu_e_ != cudaSuccess)                                                           \
            return TF_ERROR(tf_cuda_status_of(tf_cu_e_), "CUDA: launch of kernel %s failed: "   \
                            "%s (%s)", kernel_name, cudaGetErrorName(tf_cu_e_),                \
                            cudaGetErrorString(tf_cu_e_));                                     \
    } while (0)

#define TF_CUBLAS(call)                                                                        \
    do {                                                                                       \
        const cublasStatus_t tf_cb_e_ = (call);                                                \
        if (tf_cb_e_ != CUBLAS_STATUS_SUCCESS)                                                 \
            return TF_ERROR(tf_cublas_status_of(tf_cb_e_), "cuBLAS: %s failed: %s (%s)", #call, \
                            cublasGetStatusName(tf_cb_e_), cublasGetStatusString(tf_cb_e_));   \
    } while (0)

#endif
