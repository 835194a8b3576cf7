/* tf_par_mpi.h: the MPI communicator behind a tf_par, for the code that must hand one to a
 * library (parallel NetCDF). Only with TF_HAVE_MPI; everything else goes through tf_par.h. */
#ifndef TF_PAR_MPI_H
#define TF_PAR_MPI_H

#include "tf_par.h"

#ifdef TF_HAVE_MPI
#include <mpi.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The run's communicator: the Cartesian one after tf_par_decompose, else MPI_COMM_WORLD. */
MPI_Comm tf_par_comm(const tf_par *p);

#ifdef __cplusplus
}
#endif
#endif

#endif
