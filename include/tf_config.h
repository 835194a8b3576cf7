/* tf_config.h: every build-time choice of TumorField in one place.
 *
 * TF_DOUBLE (CMake option TF_DOUBLE=ON) switches the field type from float to double.
 * TF_HD marks the shared per-voxel physics as callable from host C and CUDA device code. */
#ifndef TF_CONFIG_H
#define TF_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#ifdef TF_DOUBLE
typedef double tf_real;
#define TF_REAL_NAME "double"
#define TF_REAL_EPS 2.220446049250313e-16
#define TF_REAL_MAX 1.7976931348623157e308
#else
typedef float tf_real;
#define TF_REAL_NAME "float"
#define TF_REAL_EPS 1.1920929e-07
#define TF_REAL_MAX 3.40282347e38 /* FLT_MAX */
#endif

#if defined(__CUDACC__)
#define TF_HD __host__ __device__ __forceinline__
#else
#define TF_HD static inline
#endif

/* 64-bit index type: grid products pass 2^31 from about 1290^3 voxels. */
typedef int64_t tf_index;

/* CUDA launch shapes (kernels/). */
#define TF_CUDA_BLOCK_X 32
#define TF_CUDA_BLOCK_Y 8
#define TF_CUDA_LINE_BLOCK 128

/* CPU backend: grids smaller than this run each sweep on one thread (a parallel region costs
 * more than the sweep there, and far more when cores are oversubscribed). */
#define TF_CPU_PARALLEL_MIN_CELLS 32768
/* Whether the CPU backend runs a block of `ncells` cells on all threads (bench copies as it). */
static inline int tf_cpu_parallel(tf_index ncells) { return ncells >= TF_CPU_PARALLEL_MIN_CELLS; }

#define TF_VERSION_STRING "0.1.0"

/* The commit the build was made from ("abc123def456", with "+changes" when tracked files
 * differed from it; "unknown" without git): generated at build time (cmake/build_info.cmake). */
#ifdef __cplusplus
extern "C" const char tf_build_commit[];
#else
extern const char tf_build_commit[];
#endif

#ifdef _OPENMP
#include <omp.h>
#endif
/* The most threads a parallel region of this process gets: OMP_NUM_THREADS (or the cores)
 * capped by OMP_THREAD_LIMIT; 1 without OpenMP. What the logs report and what per-thread
 * buffers are sized for. */
static inline int tf_omp_threads(void)
{
#ifdef _OPENMP
    const int n = omp_get_max_threads(), limit = omp_get_thread_limit();
    return n < limit ? n : limit;
#else
    return 1;
#endif
}
/* The threads the CPU backend runs a block of `ncells` cells on: one under
 * TF_CPU_PARALLEL_MIN_CELLS, else tf_omp_threads() (what its description and bench report). */
static inline int tf_cpu_threads(tf_index ncells)
{
    return tf_cpu_parallel(ncells) ? tf_omp_threads() : 1;
}

#endif
