/* tf_checkpoint.h: the checkpoint file NAME.chk.nc (host/checkpoint.c): the full state in the
 * build's precision, the step, time and systemic drivers, and the effective scenario, written
 * atomically (temporary file, fsync, rename, fsync of the directory). A run restarted from it
 * ends bit-for-bit where the same run without a stop ends, on the same build and backend.
 *
 * A checkpoint of a run over several ranks is one file written by all of them; it restarts
 * on any number of ranks, since every rank reads its own block. */
#ifndef TF_CHECKPOINT_H
#define TF_CHECKPOINT_H

#include "tf_grid.h"
#include "tf_par.h"
#include "tf_status.h"
#include "tf_systemic.h"

typedef struct {
    long long step;  /* steps taken since t = 0 */
    double t;        /* min */
    tf_drivers drv;
    /* Read only: a checksum of each variable's content (six fields, then the vessel map) over
     * this rank's block (sum), and the whole grid's as written (stored); have_stored is 0 for
     * a checkpoint written before the checksums. tf_checkpoint_verify compares them. */
    unsigned long long sum[TF_NFIELDS + 1], stored[TF_NFIELDS + 1];
    int have_stored;
} tf_checkpoint_info;

#ifdef __cplusplus
extern "C" {
#endif

/* Write padded host arrays (six fields and the vessel map) of the local block. par: the ranks
 * and g their blocks, NULL (or one rank) when this process writes the whole file; with several
 * ranks the call is collective and returns the same status on every rank, and the file is in
 * place (or the previous one untouched) on every rank's return. */
tf_status tf_checkpoint_write(const char *path, const tf_grid *g, const tf_par *par,
                              tf_real *const f[TF_NFIELDS], const tf_real *vessel,
                              const tf_checkpoint_info *info, const char *scenario_text);

/* Read the effective scenario stored in a checkpoint (caller frees). TF_ERR_IO when the file
 * cannot be read, TF_ERR_USAGE when it is not a TumorField checkpoint of this precision. */
tf_status tf_checkpoint_scenario(const char *path, char **scenario_text);

/* Read the state of this rank's block (g->start, g->n) into padded host arrays; the global
 * grid must match (else TF_ERR_USAGE naming it). Not collective: each rank opens the file
 * read-only by itself. */
tf_status tf_checkpoint_read(const char *path, const tf_grid *g, tf_real *const f[TF_NFIELDS],
                             tf_real *vessel, tf_checkpoint_info *info);

/* Check a checkpoint of the whole grid `whole` (gn) as tf_checkpoint_read and
 * tf_checkpoint_verify would, without holding its state: the variables are read in slabs of
 * planes (about 16 MiB in float) and dropped. Fills info's step, time and drivers. For
 * `tumorfield check --restart`; not collective. */
tf_status tf_checkpoint_check(const char *path, const tf_grid *whole, tf_checkpoint_info *info);

/* Collective over par (every rank after its tf_checkpoint_read succeeded): the blocks' content
 * checksums summed over the ranks against the ones stored in the file. TF_ERR_USAGE naming the
 * variable when they differ: a file damaged where HDF5's per-chunk checksums do not see it (the
 * index that locates the chunks), so that a restart never continues from a corrupted state. */
tf_status tf_checkpoint_verify(const char *path, const tf_par *par, tf_checkpoint_info *info);

#ifdef __cplusplus
}
#endif

#endif
