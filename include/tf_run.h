/* tf_run.h: the run driver (host/run.c): time loop, systemic drivers, output, checkpoints,
 * signals and progress; and the benchmark (host/bench.c). */
#ifndef TF_RUN_H
#define TF_RUN_H

#include "tf_scenario.h"

typedef struct {
    tf_backend_kind backend;
    const char *restart;   /* checkpoint to continue from, or NULL */
    int quiet;             /* no progress or scenario echo */
} tf_run_options;

#ifdef __cplusplus
extern "C" {
#endif

/* Run the scenario to its end. Returns the exit status of CONTRACT.md. */
tf_status tf_run(const tf_scenario *s, const tf_run_options *o);

#ifdef __cplusplus
}
#endif

#endif
