/* main.c: the command line of CONTRACT.md (run, check, bench, info, keys, --help, --version).
 *
 * The only place that turns a tf_status into an exit code and prints the error: "tumorfield:
 * error: <message>" on stderr (with the raising place only for internal errors). A bad command
 * line exits 2 with a hint to --help; nothing is run or written before the scenario and the
 * options have been checked. */
#define _POSIX_C_SOURCE 200809L

#include "tf_io.h"
#include "tf_par.h"
#include "tf_run.h"
#include "tf_scenario.h"
#include "tf_scenario_keys.h"
#include "tf_solver.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <netcdf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef TF_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif
#ifdef TF_HAVE_MPI
#include <mpi.h>
#endif

/* Throughputs assumed by `check` for its rough time estimate, in voxel updates per second
 * (all six fields of one cell advanced one step). Measure yours with `tumorfield bench`. */
/* LOD, a 2-core CPU: bench/results/2026-11-26-cpu-series-idle.md measured 1.06e8 voxel
 * updates/s at 256^3 (float); rounded down for busier machines. */
#define TF_ASSUMED_CPU_RATE 5e7
#define TF_ASSUMED_GPU_RATE 2e9  /* LOD, one H100 */

#define MAX_SETS 256

static const char *usage_main =
    "usage: tumorfield COMMAND [OPTIONS]\n"
    "\n"
    "GPU-accelerated reaction-diffusion model of tumor inflammatory fields under depression and\n"
    "aerobic exercise.\n"
    "\n"
    "commands:\n"
    "  run SCENARIO [--set KEY=VALUE]... [--output PATH] [--backend auto|cpu|cuda]\n"
    "               [--restart CHECKPOINT | --resume] [--procs PXxPYxPZ] [--quiet]\n"
    "                   run a scenario (see `tumorfield run --help`)\n"
    "  check SCENARIO [--set KEY=VALUE]... [run's options]\n"
    "                   validate, print the effective scenario, its memory and cost; run nothing\n"
    "  bench [--grid N] [--steps N] [--scheme lod|explicit] [--backend auto|cpu|cuda]\n"
    "        [--procs PXxPYxPZ] [--json]\n"
    "                   time the solver\n"
    "  info             version, precision, backends, devices, library versions, threads\n"
    "  keys [--markdown]\n"
    "                   every scenario key with its unit, default, range and meaning\n"
    "\n"
    "  tumorfield --help, tumorfield COMMAND --help (or help COMMAND), tumorfield --version\n"
    "\n"
    "exit codes: 0 finished, 2 bad command line or scenario, 3 numerical failure,\n"
    "4 input/output failure, 75 stopped by a signal after a checkpoint (requeue and restart)\n";

static const char *usage_run =
    "usage: tumorfield run SCENARIO [--set KEY=VALUE]... [--output PATH]\n"
    "                      [--backend auto|cpu|cuda] [--restart CHECKPOINT | --resume]\n"
    "                      [--procs PXxPYxPZ] [--quiet]\n"
    "\n"
    "Run SCENARIO (an INI file) to its end, writing NAME.nc, NAME.timeseries.csv, NAME.chk.nc\n"
    "and NAME.summary.json to output.dir.\n"
    "\n"
    "  --set SECTION.KEY=VALUE  override a key of the file (repeatable; later wins), e.g.\n"
    "                           --set exercise.intensity=0.8 --set run.duration=\"14 d\"\n"
    "  --output PATH            output directory (overrides output.dir)\n"
    "  --backend auto|cpu|cuda  auto (default) takes CUDA when a device is present\n"
    "  --restart CHECKPOINT     continue from a checkpoint (NAME.chk.nc) of the same scenario\n"
    "                           (written by any number of processes)\n"
    "  --resume                 continue from OUTPUT/NAME.chk.nc if it exists, else start\n"
    "                           afresh (refused over output files without their checkpoint):\n"
    "                           one command line for every start of a requeued job\n"
    "  --procs PXxPYxPZ         with mpirun -n N: processes along x, y, z (0 = chosen by\n"
    "                           MPI_Dims_create; default 0x0x0)\n"
    "  --quiet, -q              no scenario echo, progress lines, stage timings or status\n"
    "                           line (errors still go to stderr)\n"
    "\n"
    "Every option with a value but --set is given at most once.\n"
    "SIGTERM, SIGINT, SIGUSR1 or SIGHUP write a checkpoint and exit 75.\n";

static const char *usage_check =
    "usage: tumorfield check SCENARIO [--set KEY=VALUE]... [--output PATH]\n"
    "                        [--backend auto|cpu|cuda] [--restart CHECKPOINT | --resume]\n"
    "                        [--procs PXxPYxPZ] [--quiet]\n"
    "\n"
    "Validate SCENARIO with its overrides, print the effective scenario (itself a scenario\n"
    "file), the grid's state memory and a cost estimate. Runs and writes nothing. Exit 0 when\n"
    "the scenario is good, 2 (with the file, line, key and what was expected) when not, 4 when\n"
    "an input cannot be read or the output cannot be written.\n"
    "\n"
    "It takes run's options, so that a job's command line can be checked as it stands:\n"
    "--output and --procs as a run takes them, --backend the backend it would take (cuda:\n"
    "refused without a device), --restart and --resume the checkpoint it would continue from\n"
    "(of this scenario, but for run.duration and output.dir; --resume refuses output files\n"
    "without their checkpoint), --quiet only the verdict.\n";

static const char *usage_bench =
    "usage: tumorfield bench [--grid N] [--steps N] [--scheme lod|explicit]\n"
    "                        [--backend auto|cpu|cuda] [--procs PXxPYxPZ] [--json]\n"
    "\n"
    "Time steps of one scheme on an N^3 grid (N from 3 to 4096, default 128) after a warm-up,\n"
    "against the copy bandwidth of the same device, and print the stage times and voxel\n"
    "updates per second.\n"
    "Under mpirun every process gets an N^3 block (weak scaling) and the halo stage shows\n"
    "the time spent waiting for the others.\n"
    "  --steps N      timed steps (default 20)\n"
    "  --scheme S     lod (default) or explicit\n"
    "  --backend B    auto (default: CUDA where every process has a GPU of its own, else\n"
    "                 the CPU), cpu or cuda\n"
    "  --procs P      the process grid under mpirun, e.g. 2x1x1 (0: chosen; default 0x0x0)\n"
    "  --json         one JSON object, on one line, instead of the table\n";

static const char *usage_info =
    "usage: tumorfield info\n\nVersion, precision, backends built, devices found, NetCDF, CUDA and\n"
    "MPI versions, OpenMP threads.\n";

static const char *usage_keys =
    "usage: tumorfield keys [--markdown]\n\nEvery scenario key with its default, unit, range and\n"
    "meaning; --markdown prints docs/scenario-keys.md.\n";

/* A command-line error: recorded as TF_ERR_USAGE; main adds the hint to --help. */
static int cmdline_error;
static const char *command_name = NULL;

#define USAGE_ERROR(...) (cmdline_error = 1, TF_ERROR(TF_ERR_USAGE, __VA_ARGS__))

/* The options with a value given so far on this command line (options_reset starts a new
 * one). An option other than --set may be given once: a job script's own --output and the
 * user's would otherwise meet silently, the last one winning. */
static const char *given[16];
static int ngiven;

static void options_reset(void) { ngiven = 0; }

/* Option value: "--opt VALUE" or "--opt=VALUE". Returns NULL (with the error recorded) when
 * missing or given before. *i is advanced past the value. */
static const char *option_value(int argc, char **argv, int *i, const char *opt, int *matched)
{
    const size_t n = strlen(opt);
    *matched = 0;
    if (strncmp(argv[*i], opt, n) != 0 || (argv[*i][n] != '=' && argv[*i][n] != '\0'))
        return NULL;
    *matched = 1;
    if (strcmp(opt, "--set") != 0) {
        for (int g = 0; g < ngiven; ++g)
            if (strcmp(given[g], opt) == 0) {
                USAGE_ERROR("option %s given twice ('%s'): give it once (job scripts set some "
                            "options themselves: see the script's header)",
                            opt, argv[*i]);
                return NULL;
            }
        if (ngiven < (int)(sizeof given / sizeof given[0]))
            given[ngiven++] = opt;
    }
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (*i + 1 >= argc) {
        USAGE_ERROR("option %s needs a value", opt);
        return NULL;
    }
    return argv[++*i];
}

static int wants_help(int argc, char **argv)
{
    for (int i = 2; i < argc; ++i)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    return 0;
}

static tf_status parse_backend(const char *v, tf_backend_kind *out)
{
    if (strcmp(v, "auto") == 0)
        *out = TF_BACKEND_AUTO;
    else if (strcmp(v, "cpu") == 0)
        *out = TF_BACKEND_CPU;
    else if (strcmp(v, "cuda") == 0)
        *out = TF_BACKEND_CUDA;
    else
        return USAGE_ERROR("--backend '%s': expected auto, cpu or cuda", v);
    if (*out == TF_BACKEND_CUDA && !tf_cuda_built())
        return USAGE_ERROR("--backend cuda: this build has no CUDA backend (rebuild with "
                           "-DTF_CUDA=ON); use --backend cpu or auto");
    return TF_OK;
}

/* Strict positive integer option. */
static tf_status parse_count(const char *opt, const char *v, long lo, long hi, long *out)
{
    char *end = NULL;
    const long x = strtol(v, &end, 10);
    if (!isdigit((unsigned char)*v) || *end || x < lo || x > hi) /* no blanks, no sign */
        return USAGE_ERROR("%s '%s': expected a whole number from %ld to %ld", opt, v, lo, hi);
    *out = x;
    return TF_OK;
}

/* --procs PXxPYxPZ: processes along x, y, z; 0 leaves a direction to MPI_Dims_create. */
static tf_status parse_procs(const char *v, int procs[3])
{
    long x[3];
    char *end = NULL;
    const char *at = v;
    for (int d = 0; d < 3; ++d) {
        x[d] = strtol(at, &end, 10);
        if (!isdigit((unsigned char)*at) || end == at || x[d] < 0 || x[d] > 1000000 ||
            (d < 2 ? *end != 'x' : *end != '\0'))
            return USAGE_ERROR("--procs '%s': expected PXxPYxPZ, processes along x, y and z "
                               "(0 = chosen), e.g. 2x1x1 or 0x0x4", v);
        at = end + 1;
    }
    for (int d = 0; d < 3; ++d)
        procs[d] = (int)x[d];
    return TF_OK;
}

/* Shared by run and check: SCENARIO, --set, and (run only) the rest. */
typedef struct {
    const char *scenario;
    const char *sets[MAX_SETS + 1];
    int nsets;
    char *output_set; /* "output.dir=PATH", owned */
    tf_run_options run;
} scenario_args;

static tf_status parse_scenario_args(int argc, char **argv, scenario_args *a)
{
    memset(a, 0, sizeof *a);
    options_reset();
    a->run.backend = TF_BACKEND_AUTO;
    const char *output = NULL;
    for (int i = 2; i < argc; ++i) {
        int m;
        const char *v;
        if ((v = option_value(argc, argv, &i, "--set", &m)) || m) {
            if (!v)
                return TF_ERR_USAGE;
            const char *eq = strchr(v, '=');
            if (!eq || !memchr(v, '.', (size_t)(eq - v)))
                return USAGE_ERROR("--set '%s': expected SECTION.KEY=VALUE, e.g. --set "
                                   "exercise.intensity=0.8", v);
            if (a->nsets == MAX_SETS)
                return USAGE_ERROR("more than %d --set options", MAX_SETS);
            a->sets[a->nsets++] = v;
            continue;
        }
        if ((v = option_value(argc, argv, &i, "--output", &m)) || m) {
            if (!v)
                return TF_ERR_USAGE;
            if (!*v)
                return USAGE_ERROR("--output: empty path");
            /* A scenario's values lose their edge blanks: the run would write elsewhere. */
            if (isspace((unsigned char)v[0]) || isspace((unsigned char)v[strlen(v) - 1]))
                return USAGE_ERROR("--output '%s': a path that starts or ends with a blank "
                                   "(a scenario cannot hold one: its values are trimmed)", v);
            output = v;
            continue;
        }
        if ((v = option_value(argc, argv, &i, "--backend", &m)) || m) {
            if (!v)
                return TF_ERR_USAGE;
            TF_TRY(parse_backend(v, &a->run.backend));
            continue;
        }
        if ((v = option_value(argc, argv, &i, "--procs", &m)) || m) {
            if (!v)
                return TF_ERR_USAGE;
            TF_TRY(parse_procs(v, a->run.procs));
            continue;
        }
        if ((v = option_value(argc, argv, &i, "--restart", &m)) || m) {
            if (!v)
                return TF_ERR_USAGE;
            if (!*v)
                return USAGE_ERROR("--restart: empty path");
            if (strchr(v, '\\'))
                return USAGE_ERROR("--restart '%s': the path contains a backslash, which the "
                                   "NetCDF library reads as a Windows path separator: it "
                                   "cannot open such a path; rename it", v);
            a->run.restart = v;
            continue;
        }
        if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
            a->run.quiet = 1;
            continue;
        }
        if (strcmp(argv[i], "--resume") == 0) {
            a->run.resume = 1;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return USAGE_ERROR("%s: unknown option '%s'", argv[1], argv[i]);
        if (a->scenario)
            return USAGE_ERROR("%s: more than one scenario ('%s' and '%s')", argv[1], a->scenario,
                               argv[i]);
        a->scenario = argv[i];
    }
    if (!a->scenario)
        return USAGE_ERROR("%s: missing SCENARIO (an .ini file)", argv[1]);
    if (a->run.restart && a->run.resume)
        return USAGE_ERROR("%s: --restart and --resume: give one (--resume finds the checkpoint "
                           "in the output directory itself)", argv[1]);
    if (output) {
        const size_t n = strlen(output) + sizeof "output.dir=";
        a->output_set = malloc(n);
        if (!a->output_set)
            return TF_ERROR(TF_ERR_NOMEM, "out of memory");
        snprintf(a->output_set, n, "output.dir=%s", output);
        a->sets[a->nsets++] = a->output_set; /* last, so it wins */
    }
    return TF_OK;
}

static void human_bytes(char *buf, size_t cap, double b)
{
    const char *u[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB"};
    int i = 0;
    while (b >= 1024 && i < 5) {
        b /= 1024;
        ++i;
    }
    snprintf(buf, cap, i ? "%.3g %s" : "%.0f %s", b, u[i]);
}

static void human_time(char *buf, size_t cap, double s)
{
    if (s < 120)
        snprintf(buf, cap, "%.2g s", s);
    else if (s < 7200)
        snprintf(buf, cap, "%.2g min", s / 60);
    else if (s < 172800)
        snprintf(buf, cap, "%.2g h", s / 3600);
    else
        snprintf(buf, cap, "%.3g d", s / 86400);
}

/* The command line of run or check (check takes run's options, so that a job's own command
 * line can be checked), and the scenario it names, loaded with its --set overrides into *s
 * (caller frees *s and a->output_set, also on failure). */
static tf_status load_sets(scenario_args *a, tf_scenario *s, const char *text, size_t n);

static tf_status load_scenario(int argc, char **argv, scenario_args *a, tf_scenario **s)
{
    *s = NULL;
    const tf_par world = tf_par_world();
    /* Agreed before the collectives below: a process whose command line failed (an MPMD launch
     * can give each its own) must not leave the others waiting in them. */
    tf_status st = tf_par_agree(&world, parse_scenario_args(argc, argv, a));
    TF_TRY(st);
    if (!(*s = malloc(sizeof **s)))
        return TF_ERROR(TF_ERR_NOMEM, "out of memory");
    if (world.size == 1)
        return load_sets(a, *s, NULL, 0);
    /* Under MPI the first process reads the file and every process parses its bytes: each
     * reading the file itself, they could read different scenarios (a file replaced while the
     * job starts, node-local copies, standard input, which mpirun gives to one process) and
     * run different physics in different blocks, hang or crash. */
    char *text = NULL;
    size_t len = 0;
    st = world.rank == 0 ? tf_scenario_read_text(a->scenario, &text, &len) : TF_OK;
    st = tf_par_agree(&world, st);
    unsigned long long n = len;
    if (st == TF_OK)
        tf_par_bcast(&world, &n, sizeof n, 0);
    if (st == TF_OK && world.rank != 0 && !(text = malloc(n ? n : 1)))
        st = TF_ERROR(TF_ERR_NOMEM, "out of memory for the scenario's %llu bytes", n);
    st = tf_par_agree(&world, st);
    if (st == TF_OK) {
        tf_par_bcast(&world, text, (size_t)n, 0);
        st = load_sets(a, *s, text, (size_t)n);
    }
    free(text);
    return st;
}

/* The scenario of a (from its file, or from text where not NULL) with its overrides. --output
 * goes in as the last `output.dir=PATH` override; an error in it names --output, which the user
 * gave, not the --set the loader saw (unless a --set output.dir came first and failed). */
static tf_status load_sets(scenario_args *a, tf_scenario *s, const char *text, size_t n)
{
    const tf_status st = text ? tf_scenario_load_text(s, a->scenario, text, n, a->sets, a->nsets)
                              : tf_scenario_load(s, a->scenario, a->sets, a->nsets);
    static const char lead[] = "--set output.dir=";
    const char *msg = tf_error_message();
    if (st == TF_OK || !a->output_set || strncmp(msg, lead, sizeof lead - 1) != 0)
        return st;
    for (int i = 0; i < a->nsets - 1; ++i)
        if (strncmp(a->sets[i], "output.dir=", 11) == 0)
            return st; /* the user's own --set output.dir may be the one named */
    char copy[2048];
    snprintf(copy, sizeof copy, "%s", msg + sizeof lead - 1);
    tf_error_clear();
    return TF_ERROR(st, "--output %s", copy);
}

/* Collective: whether every process has the command line and the scenario of the first (an
 * MPMD launch could give each its own --set, --procs, --restart...: different physics in
 * different blocks, a division by zero or a hang). Compared by a hash of the arguments after
 * the program's name and of the effective scenario. */
/* FNV-1a over the n bytes at p, continuing from h. */
static unsigned long long fnv1a(unsigned long long h, const char *p, size_t n)
{
    for (size_t i = 0; i < n; ++i)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
    return h;
}

static tf_status same_scenario(const tf_par *world, int argc, char **argv, const tf_scenario *s)
{
    unsigned long long h = 1469598103934665603ULL, h0;
    for (int i = 1; i < argc; ++i)
        h = fnv1a(h, argv[i], strlen(argv[i]) + 1); /* the '\0' too: a separator */
    char *text = tf_scenario_format(s);
    if (text)
        h = fnv1a(h, text, strlen(text));
    free(text);
    h0 = h;
    tf_par_bcast(world, &h0, sizeof h0, 0);
    unsigned long long differ = h0 != h;
    tf_par_sum_u64(world, &differ, 1);
    if (differ)
        return TF_ERROR(TF_ERR_USAGE, "the processes of this job have different command lines "
                        "or scenarios (%llu of %d differ from the first process's: other "
                        "options?); every process must be started with the same command line",
                        differ, world->size);
    return TF_OK;
}

static tf_status cmd_check(int argc, char **argv)
{
    scenario_args a = {0};
    tf_scenario *s;
    tf_status st = load_scenario(argc, argv, &a, &s);
    /* What a run refuses before it writes anything, check refuses too: input files that do not
     * open or do not fit the grid, a grid past the memory of this machine (under mpirun: of its
     * node, with every process of the node counted, the grid cut as a run with these processes
     * would cut it), with the backend `--backend auto` would take. */
    if (st == TF_OK)
        st = tf_initial_check_files(s);
    if (st == TF_OK)
        st = tf_run_output_check(s);
    /* --restart, --resume: the checkpoint the run would continue from is of this scenario. */
    char resumed[TF_PATH_MAX] = "";
    if (st == TF_OK)
        st = tf_run_restart_check(s, &a.run, resumed, sizeof resumed);
    tf_par par = tf_par_world();
    st = tf_par_agree(&par, st); /* the placement below is collective */
    if (st == TF_OK && par.size > 1)
        st = tf_par_agree(&par, same_scenario(&par, argc, argv, s));
    tf_grid block;
    tf_backend_kind kind = TF_BACKEND_CPU;
    if (st == TF_OK)
        st = tf_par_agree(&par, tf_run_place(s, a.run.procs, a.run.backend, &block, &par, &kind));
    char *text = st == TF_OK ? tf_scenario_format(s) : NULL;
    if (st == TF_OK && !text)
        st = TF_ERROR(TF_ERR_NOMEM, "out of memory formatting the scenario");
    if (st == TF_OK && (a.run.restart || a.run.resume)) {
        if (resumed[0])
            printf("# restart: from '%s', whose scenario is this one's (a restart may change "
                   "only run.duration and output.dir)\n", resumed);
        else
            printf("# resume: no checkpoint in '%s' yet: the run starts afresh\n", s->dir);
    }
    /* The disk the run's files may take, against what is free there: a note (on stderr, also
     * with --quiet) where it may not fit; not an error, since compression makes the records
     * smaller than this bound and space may be freed before the job runs. */
    double disk_need = -1.0, disk_avail = -1.0;
    if (st == TF_OK && tf_par_root(&par)) {
        tf_run_disk_need(s, &disk_need, &disk_avail);
        if (disk_avail >= 0.0 && disk_need > disk_avail) {
            char need[32], avail[32];
            human_bytes(need, sizeof need, disk_need);
            human_bytes(avail, sizeof avail, disk_avail);
            fprintf(stderr, "tumorfield: note: the run's files may need up to %s more, but only "
                            "%s are free where '%s' is: the run may stop with exit 4 (disk "
                            "full); free space, choose another output.dir, a longer "
                            "output.interval, fewer output.fields or output.compression\n",
                    need, avail, s->dir);
        }
    }
    if (st == TF_OK && a.run.quiet)
        printf("# check: '%s' is a valid scenario; nothing was run\n", a.scenario);
    if (st == TF_OK && !a.run.quiet) {
        fputs(text, stdout);
        const double cells = (double)s->n[0] * (double)s->n[1] * (double)s->n[2];
        const double padded = tf_grid_padded_elements(s->n[0], s->n[1], s->n[2]);
        const double steps = ceil(s->duration / s->dt - 1e-9);
        const double updates = cells * steps;
        char mem[32], tc[32], tg[32];
        human_bytes(mem, sizeof mem, tf_scenario_state_bytes(s));
        human_time(tc, sizeof tc, updates / TF_ASSUMED_CPU_RATE);
        human_time(tg, sizeof tg, updates / TF_ASSUMED_GPU_RATE);
        printf("\n# check: '%s' is a valid scenario; nothing was run\n", a.scenario);
        printf("# grid: %lld x %lld x %lld = %.0f cells of %g um; domain %g x %g x %g um\n",
               (long long)s->n[0], (long long)s->n[1], (long long)s->n[2], cells, s->spacing,
               s->n[0] * s->spacing, s->n[1] * s->spacing, s->n[2] * s->spacing);
        printf("# memory: %s of state (%d arrays of %.0f cells with ghosts, %s, %zu bytes each; "
               "scheme %s)\n", mem, tf_scenario_state_arrays(s), padded, TF_REAL_NAME,
               sizeof(tf_real), s->scheme == TF_SCHEME_EXPLICIT ? "explicit" : "lod");
        if (par.size > 1)
            printf("# processes: %d as %d x %d x %d (as a run with them would cut the grid); "
                   "rank 0's block %lld x %lld x %lld cells, %d process%s on its node; backend "
                   "%s takes %s\n", par.size, par.dims[0], par.dims[1], par.dims[2],
                   (long long)block.n[0], (long long)block.n[1], (long long)block.n[2],
                   par.node_size, par.node_size == 1 ? "" : "es",
                   a.run.backend == TF_BACKEND_CUDA  ? "cuda"
                   : a.run.backend == TF_BACKEND_CPU ? "cpu"
                                                     : "auto",
                   kind == TF_BACKEND_CUDA ? "cuda" : "cpu");
        /* host/run.c keeps two host sets of the six fields and the vessel map for the record
         * writer and checkpoints, whatever the backend. */
        char host[32];
        human_bytes(host, sizeof host, 13.0 * padded * (double)sizeof(tf_real));
        printf("# host buffers: %s more for output and checkpoints (13 arrays; with the cpu "
               "backend both live in host memory)\n", host);
        if (s->scheme == TF_SCHEME_EXPLICIT)
            printf("# explicit stability limit: dt <= %.4g min\n",
                   tf_floor_sig(tf_explicit_dt_limit(&s->p, s->spacing, &s->bcs, s->n).dt, 4));
        tf_run_print_notes(s, "# note: ");
        if (disk_need >= 0.0) {
            char need[32], avail[32] = "unknown";
            human_bytes(need, sizeof need, disk_need);
            if (disk_avail >= 0.0)
                human_bytes(avail, sizeof avail, disk_avail);
            printf("# disk: up to %s more for the run's files (uncompressed records, the "
                   "checkpoint twice while it is replaced, the time series); %s free where "
                   "'%s' is\n", need, avail, s->dir);
        }
        printf("# cost: %.0f steps x %.0f cells = %.4g voxel updates; roughly %s at %.0e/s "
               "(assumed 2-core CPU), %s at %.0e/s (assumed one H100); measure with "
               "`tumorfield bench`\n", steps, cells, updates, tc, TF_ASSUMED_CPU_RATE, tg,
               TF_ASSUMED_GPU_RATE);
    }
    free(text);
    tf_par_free(&par);
    free(s);
    free(a.output_set);
    return st;
}

static tf_status cmd_run(int argc, char **argv)
{
    scenario_args a = {0};
    tf_scenario *s;
    /* The first process reads the scenario, every process parses its text; they agree before
     * anything collective starts. */
    const tf_par world = tf_par_world();
    TF_TRY(tf_par_launch_check());
    tf_status st = tf_par_agree(&world, load_scenario(argc, argv, &a, &s));
    if (st == TF_OK && world.size > 1)
        st = tf_par_agree(&world, same_scenario(&world, argc, argv, s));
    if (st == TF_OK)
        st = tf_run(s, &a.run);
    free(s);
    free(a.output_set);
    return st;
}

static tf_status parse_bench(int argc, char **argv, tf_bench_options *o)
{
    options_reset();
    for (int i = 2; i < argc; ++i) {
        int m;
        const char *v;
        long x = 0;
        if ((v = option_value(argc, argv, &i, "--grid", &m)) || m) {
            if (!v)
                return TF_ERR_USAGE;
            TF_TRY(parse_count("--grid", v, 3, 4096, &x));
            o->n = x;
        } else if ((v = option_value(argc, argv, &i, "--steps", &m)) || m) {
            if (!v)
                return TF_ERR_USAGE;
            TF_TRY(parse_count("--steps", v, 1, 1000000, &x));
            o->steps = x;
        } else if ((v = option_value(argc, argv, &i, "--scheme", &m)) || m) {
            if (!v)
                return TF_ERR_USAGE;
            if (strcmp(v, "lod") == 0)
                o->scheme = TF_SCHEME_LOD;
            else if (strcmp(v, "explicit") == 0)
                o->scheme = TF_SCHEME_EXPLICIT;
            else
                return USAGE_ERROR("--scheme '%s': expected lod or explicit", v);
        } else if ((v = option_value(argc, argv, &i, "--backend", &m)) || m) {
            if (!v)
                return TF_ERR_USAGE;
            TF_TRY(parse_backend(v, &o->backend));
        } else if ((v = option_value(argc, argv, &i, "--procs", &m)) || m) {
            if (!v)
                return TF_ERR_USAGE;
            TF_TRY(parse_procs(v, o->procs));
        } else if (strcmp(argv[i], "--json") == 0) {
            o->json = 1;
        } else {
            return USAGE_ERROR("bench: unexpected argument '%s'", argv[i]);
        }
    }
    return TF_OK;
}

static tf_status cmd_bench(int argc, char **argv)
{
    tf_bench_options o = {.n = 128, .steps = 20, .scheme = TF_SCHEME_LOD,
                          .backend = TF_BACKEND_AUTO, .json = 0};
    const tf_par world = tf_par_world();
    TF_TRY(tf_par_launch_check());
    TF_TRY(tf_par_agree(&world, parse_bench(argc, argv, &o)));
    return tf_bench(&o);
}

static tf_status cmd_info(int argc, char **argv)
{
    if (argc > 2)
        return USAGE_ERROR("info: unexpected argument '%s'", argv[2]);
    const int threads = tf_omp_threads();
    printf("tumorfield %s (commit %s)\n", TF_VERSION_STRING, tf_build_commit);
    printf("precision:      %s\n", TF_REAL_NAME);
    printf("backends:       cpu (OpenMP)%s\n", tf_cuda_built() ? ", cuda" : "; cuda not built");
    const int ndev = tf_cuda_built() ? tf_cuda_device_count() : 0;
    const char *none_why = tf_cuda_built() && ndev == 0 ? tf_cuda_count_error() : NULL;
    /* Why a machine's GPU is not seen (no driver, a container without /dev/nvidia*). */
    printf("cuda devices:   %d%s%s%s\n", ndev, none_why ? " (" : "", none_why ? none_why : "",
           none_why ? ")" : "");
    for (int i = 0; i < ndev; ++i) {
        char desc[256], why[256];
        tf_cuda_device_describe(i, desc, sizeof desc);
        printf("  device %d:     %s\n", i, desc);
        if (!tf_cuda_device_runs(i, why, sizeof why))
            printf("                %s\n", why);
    }
#ifdef TF_HAVE_CUDA
    int rt = 0, drv = 0;
    cudaRuntimeGetVersion(&rt);
    cudaDriverGetVersion(&drv);
    if (drv > 0)
        printf("cuda:           runtime %d.%d, driver %d.%d\n", rt / 1000, rt % 1000 / 10,
               drv / 1000, drv % 1000 / 10);
    else
        printf("cuda:           runtime %d.%d, no driver installed\n", rt / 1000, rt % 1000 / 10);
#else
    printf("cuda:           not built\n");
#endif
    /* Some builds end the version string with an RCS keyword's " $". */
    char ncv[128];
    snprintf(ncv, sizeof ncv, "%s", nc_inq_libvers());
    for (size_t n = strlen(ncv); n > 0 && (ncv[n - 1] == '$' || ncv[n - 1] == ' '); --n)
        ncv[n - 1] = '\0';
    printf("netcdf:         %s\n", ncv);
#ifdef TF_HAVE_MPI
    char mpiv[MPI_MAX_LIBRARY_VERSION_STRING];
    int mpil = 0;
    MPI_Get_library_version(mpiv, &mpil);
    char *nl = strchr(mpiv, ',');
    if (nl)
        *nl = '\0';
    printf("mpi:            %s; %d process%s in this job\n", mpiv, tf_par_world_size(),
           tf_par_world_size() == 1 ? "" : "es");
#else
    printf("mpi:            not built\n");
#endif
    printf("openmp threads: %d\n", threads);
    return TF_OK;
}

static tf_status cmd_keys(int argc, char **argv)
{
    int md = 0;
    for (int i = 2; i < argc; ++i) {
        if (strcmp(argv[i], "--markdown") == 0)
            md = 1;
        else
            return USAGE_ERROR("keys: unexpected argument '%s'", argv[i]);
    }
    tf_scenario_print_keys(stdout, md);
    return TF_OK;
}

/* What check, info, keys, bench and --help print is their product: a write that failed (a full
 * disk under `check s.ini > eff.ini`, /dev/full) is exit 4, not an empty file and exit 0.
 * (run's progress lines are a log: a run goes on without them.) */
static tf_status flush_stdout(void)
{
    errno = 0;
    if (fflush(stdout) != 0 || ferror(stdout))
        return TF_ERROR(TF_ERR_IO, "cannot write the output to standard output: %s",
                        strerror(errno ? errno : EIO));
    return TF_OK;
}

/* More OpenMP threads than a machine can start end in libgomp (exit 1, or a crash at the
 * first parallel region): refused first, naming the setting. The cap leaves room for heavy
 * oversubscription (16 threads per processor, at least 256). */
static tf_status threads_sane(void)
{
    const int n = tf_omp_threads();
    const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    const long cap = cpus > 16 ? 16 * cpus : 256;
    if (n > cap)
        return TF_ERROR(TF_ERR_USAGE,
                        "OMP_NUM_THREADS (or OMP_THREAD_LIMIT) asks for %d threads, more than "
                        "the %ld this program starts on this machine of %ld processors; set "
                        "it to the cores a process has",
                        n, cap, cpus);
    return TF_OK;
}

static int run_command(int argc, char **argv)
{
    /* collective: the command's ranks agree on its failures themselves (run, check, bench); the
     * others work alone on every rank (each sees the same failure) and agree below. */
    static const struct {
        const char *name;
        tf_status (*fn)(int, char **);
        const char **usage;
        int collective;
    } commands[] = {
        {"run", cmd_run, &usage_run, 1},       {"check", cmd_check, &usage_check, 1},
        {"bench", cmd_bench, &usage_bench, 1}, {"info", cmd_info, &usage_info, 0},
        {"keys", cmd_keys, &usage_keys, 0},
    };
    int collective = 0;
    tf_status st;
    if (argc < 2) {
        st = USAGE_ERROR("missing COMMAND (run, check, bench, info or keys)");
    } else if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
               strcmp(argv[1], "help") == 0) {
        /* `tumorfield help COMMAND` is `tumorfield COMMAND --help`; anything else after it is
         * refused rather than ignored. */
        st = TF_OK;
        const char *usage = usage_main;
        if (argc > 2) {
            usage = NULL;
            for (size_t c = 0; c < sizeof commands / sizeof commands[0]; ++c)
                if (strcmp(argv[2], commands[c].name) == 0)
                    usage = *commands[c].usage;
            if (!usage)
                st = USAGE_ERROR("%s: '%s' is not a command (run, check, bench, info or keys)",
                                 argv[1], argv[2]);
            else if (argc > 3)
                st = USAGE_ERROR("%s: unexpected argument '%s'", argv[1], argv[3]);
        }
        if (st == TF_OK) {
            fputs(usage, stdout);
            st = flush_stdout();
        }
    } else if (strcmp(argv[1], "--version") == 0) {
        if (argc > 2) {
            st = USAGE_ERROR("--version: unexpected argument '%s'", argv[2]);
        } else {
            printf("tumorfield %s (%s precision%s; commit %s)\n", TF_VERSION_STRING, TF_REAL_NAME,
                   tf_cuda_built() ? ", cuda" : "", tf_build_commit);
            st = flush_stdout();
        }
    } else {
        st = USAGE_ERROR("unknown command '%s' (run, check, bench, info or keys)", argv[1]);
        for (size_t c = 0; c < sizeof commands / sizeof commands[0]; ++c)
            if (strcmp(argv[1], commands[c].name) == 0) {
                tf_error_clear();
                cmdline_error = 0;
                command_name = commands[c].name;
                if (wants_help(argc, argv)) {
                    fputs(*commands[c].usage, stdout);
                    st = flush_stdout();
                    break;
                }
                collective = commands[c].collective;
                st = collective ? threads_sane() : TF_OK;
                if (collective && tf_par_world_size() > 1) {
                    const tf_par world = tf_par_world();
                    st = tf_par_agree(&world, st);
                }
                if (st == TF_OK)
                    st = commands[c].fn(argc, argv);
                if (st == TF_OK && commands[c].fn != cmd_run)
                    st = flush_stdout();
                break;
            }
    }
    if (!collective && tf_par_world_size() > 1) {
        /* Under mpirun: one report, from rank 0, and no abort of the job. */
        const tf_par world = tf_par_world();
        const int cmdline = cmdline_error;
        st = tf_par_agree(&world, st);
        cmdline_error = cmdline;
    }
    if (st == TF_OK)
        return 0;
    fflush(stdout);
    /* Under MPI the ranks agree on a failure and rank 0 reports it; a rank whose failure the
     * others have not seen reports its own (and the job is then aborted). */
    if (tf_par_world_rank() != 0 && tf_par_error_agreed())
        return tf_exit_code(st);
    if (st == TF_ERR_INTERNAL)
        fprintf(stderr, "tumorfield: error: %s [%s]\n", tf_error_message(), tf_error_where());
    else if (st == TF_ERR_STOPPED) /* a planned stop with its checkpoint, not a failure */
        fprintf(stderr, "tumorfield: %s\n", tf_error_message());
    else
        fprintf(stderr, "tumorfield: error: %s\n", tf_error_message());
    if (cmdline_error)
        fprintf(stderr, "Try 'tumorfield %s%s--help'.\n", command_name ? command_name : "",
                command_name ? " " : "");
    return tf_exit_code(st);
}

int main(int argc, char **argv)
{
    /* A reader that went away (`keys | head`) fails the writes (EPIPE): the command ends with
     * exit 4 and says so (flush_stdout) instead of dying of SIGPIPE (141). */
    signal(SIGPIPE, SIG_IGN);
    if (argc > 1 && strcmp(argv[1], "run") == 0)
        tf_run_catch_signals(); /* a requeue signal in the first moments is a stop, not a kill */
    tf_par_init(&argc, &argv);
    /* Only rank 0 speaks on stdout (progress, tables, summaries); errors go to stderr. */
    if (tf_par_world_rank() != 0 && !freopen("/dev/null", "w", stdout))
        fclose(stdout);
    const int code = run_command(argc, argv);
    tf_par_finalize(code);
    if (tf_nc_close_failed()) {
        /* A file whose close failed is still open inside HDF5, which would crash closing it
         * in its exit handler (exit 139 instead of the failure's code). Everything of ours is
         * closed or written; leave without the exit handlers. */
        fflush(NULL);
        _exit(code);
    }
    return code;
}
