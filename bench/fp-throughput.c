/* fp-throughput.c: the clock and the issue rates of float vector
 * multiplication, addition and division on this CPU, for the roofline of the
 * CPU row kernels (docs/performance.md, "CPU roofline"). Not part of the build:
 * x86-64 with AVX-512 only,
 *
 *     gcc -O2 -o fp-throughput bench/fp-throughput.c && ./fp-throughput
 *
 * The clock: a chain of dependent integer additions of a register (one cycle
 * each; additions of an immediate are folded at register renaming on Intel's
 * Golden Cove and later cores, where such a chain measured 13 GHz). The
 * rates: 12 independent chains of one operation, so that the latency hides and
 * the issue rate shows; cycles per instruction at the measured clock. */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

enum { CHAINS = 12 };

static double clock_hz(void)
{
    const long n = 500000000;
    long x = 0, one = 1;
    const double t0 = now();
    for (long i = 0; i < n; ++i)
        __asm__ volatile("add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0" : "+r"(x) : "r"(one));
    return 4.0 * (double)n / (now() - t0);
}

#define RATE(name, type, width, set1, op, reduce)                                \
    __attribute__((target("avx512f"))) static void name(double hz)               \
    {                                                                            \
        type a[CHAINS];                                                          \
        for (int q = 0; q < CHAINS; ++q)                                         \
            a[q] = set1(1.0f + (float)q * 1e-7f);                                \
        const type b = set1(1.0000001f);                                         \
        const long m = 20000000;                                                 \
        const double t0 = now();                                                 \
        for (long i = 0; i < m; ++i) {                                           \
            _Pragma("GCC unroll 16") for (int q = 0; q < CHAINS; ++q) a[q] = op; \
        }                                                                        \
        const double t = now() - t0;                                             \
        float s = 0.0f;                                                          \
        for (int q = 0; q < CHAINS; ++q)                                         \
            s += reduce;                                                         \
        printf("%-22s %5.2f cycles each (%d lanes; checksum %g)\n", #name,       \
               t *hz / (CHAINS * (double)m), width, (double)s);                  \
    }

__attribute__((target("avx512f"))) static float first8(__m256 v)
{
    return _mm256_cvtss_f32(v);
}

RATE(zmm_mul, __m512, 16, _mm512_set1_ps, _mm512_mul_ps(a[q], b), _mm512_reduce_add_ps(a[q]))
RATE(zmm_add, __m512, 16, _mm512_set1_ps, _mm512_add_ps(a[q], b), _mm512_reduce_add_ps(a[q]))
RATE(zmm_div, __m512, 16, _mm512_set1_ps, _mm512_div_ps(b, a[q]), _mm512_reduce_add_ps(a[q]))
RATE(ymm_mul, __m256, 8, _mm256_set1_ps, _mm256_mul_ps(a[q], b), first8(a[q]))
RATE(ymm_div, __m256, 8, _mm256_set1_ps, _mm256_div_ps(b, a[q]), first8(a[q]))

int main(void)
{
    const double hz = clock_hz();
    printf("clock                  %.2f GHz\n", 1e-9 * hz);
    zmm_mul(hz);
    zmm_add(hz);
    zmm_div(hz);
    ymm_mul(hz);
    ymm_div(hz);
    return 0;
}
