/* run.c: the run driver. One scenario from its initial state (or a checkpoint) to its end:
 * systemic drivers on the host, steps on the solver's backend, NetCDF records, time series rows,
 * checkpoints, signals, progress and the closing summary.
 *
 * Output cadence is counted in steps, so a restarted run writes exactly the records and rows the
 * uninterrupted run writes: records at multiples of round(output.interval / dt) steps and at the
 * last step, rows likewise with output.timeseries_interval, checkpoints with checkpoint.interval
 * and at the end. The run ends at the first step at or past run.duration. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "tf_run.h"

#include "tf_checkpoint.h"
#include "tf_io.h"
#include "tf_par.h"
#include "tf_scenario_keys.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig) { stop_signal = sig; }

/* The stop signals: Slurm's SIGTERM at the time limit, SIGUSR1 from --signal, SIGINT (Ctrl-C),
 * SIGHUP (the terminal or ssh session of an interactive run closed). */
enum { NCAUGHT = 4 };
static const int caught[NCAUGHT] = {SIGTERM, SIGINT, SIGUSR1, SIGHUP};

typedef struct {
    struct sigaction old[NCAUGHT];
} signal_guard;

/* The handlers the process had before tf_run_catch_signals, when it ran. */
static signal_guard early;
static int caught_early;

static void signals_install(signal_guard *gd)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART; /* a write or fsync in progress resumes instead of failing */
    sigemptyset(&sa.sa_mask);
    if (!caught_early)
        stop_signal = 0; /* else a signal that came before the run stops it after its first step */
    for (int i = 0; i < NCAUGHT; ++i) {
        /* SIGHUP ignored when the program starts (nohup) stays ignored: the one who started
         * it asked the run to outlive the terminal. (SIGINT, which a shell ignores for its
         * background jobs, is still caught: scripts stop their runs with it.) */
        struct sigaction cur;
        if (caught[i] == SIGHUP &&
            sigaction(caught[i], NULL, &cur) == 0 && cur.sa_handler == SIG_IGN) {
            if (!caught_early)
                gd->old[i] = cur;
            continue;
        }
        sigaction(caught[i], &sa, caught_early ? NULL : &gd->old[i]);
    }
    /* Past a file-size limit, writes fail with EFBIG (reported, exit 4) instead of a kill; a
     * log reader that went away (`| head`, a dead tee) fails the progress lines, not the run. */
    signal(SIGXFSZ, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
}

static void signals_restore(const signal_guard *gd)
{
    for (int i = 0; i < NCAUGHT; ++i)
        sigaction(caught[i], caught_early ? &early.old[i] : &gd->old[i], NULL);
}

void tf_run_catch_signals(void)
{
    signals_install(&early);
    caught_early = 1;
}

/* Whether a directory takes new entries: make one (a unique name, so that processes checking
 * at once do not meet) and remove it. access() is no answer for root, to whom it grants
 * everything, also where mkdir fails (/proc, /sys). Where `missing` is set, that is the
 * directory a run would create in `dir`; else `dir` is the output directory itself. */
static tf_status probe_dir(const char *dir, const char *missing)
{
    char probe[TF_PATH_MAX + 32]; /* any output directory a run accepts, and the probe's name */
    if (snprintf(probe, sizeof probe, "%s/.tumorfield-check-XXXXXX", dir) >= (int)sizeof probe)
        return TF_ERROR(TF_ERR_USAGE, "output directory path too long");
    if (!mkdtemp(probe)) {
        if (missing)
            return TF_ERROR(TF_ERR_IO, "cannot create output directory '%s': %s", missing,
                            strerror(errno));
        return TF_ERROR(TF_ERR_IO, "output directory '%s' does not take new files (making one "
                                   "in it failed: %s)",
                        dir, strerror(errno));
    }
    rmdir(probe);
    return TF_OK;
}

tf_status tf_run_dir_check(const char *dir)
{
    char buf[TF_PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf)
        return TF_ERROR(TF_ERR_USAGE, "output directory path too long");
    struct stat sb;
    char parent[TF_PATH_MAX];
    snprintf(parent, sizeof parent, "%s", dir[0] == '/' ? "/" : ".");
    for (char *p = buf + 1;; ++p) {
        const int end = *p == '\0';
        if (*p != '/' && !end)
            continue;
        *p = '\0';
        if (stat(buf, &sb) != 0) {
            /* The first directory a run would create: its parent must take it. */
            if (errno != ENOENT)
                return TF_ERROR(TF_ERR_IO, "cannot create output directory '%s': %s", buf,
                                strerror(errno));
            return probe_dir(parent, buf);
        }
        if (!S_ISDIR(sb.st_mode))
            return TF_ERROR(TF_ERR_IO, "cannot create output directory '%s': '%s' is not a "
                                       "directory", dir, buf);
        snprintf(parent, sizeof parent, "%s", buf);
        if (end)
            break;
        *p = '/';
    }
    return probe_dir(dir, NULL);
}

/* mkdir -p, after the check `check` makes (so that both say the same of a path in the way). */
static tf_status make_dirs(const char *dir)
{
    TF_TRY(tf_run_dir_check(dir));
    char buf[TF_PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf)
        return TF_ERROR(TF_ERR_USAGE, "output directory path too long");
    for (char *p = buf + 1;; ++p) {
        const int end = *p == '\0';
        if (*p == '/' || end) {
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return TF_ERROR(TF_ERR_IO, "cannot create output directory '%s': %s", buf,
                                strerror(errno));
            if (end)
                break;
            *p = '/';
        }
    }
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return TF_ERROR(TF_ERR_IO, "output directory '%s' is not a directory", dir);
    if (access(dir, W_OK) != 0)
        return TF_ERROR(TF_ERR_IO, "output directory '%s' is not writable: %s", dir,
                        strerror(errno));
    return TF_OK;
}

/* A line of an effective scenario that sets a key: its section, the key (klen characters) and
 * the whole line (len). */
typedef struct {
    const char *line;
    size_t len, klen;
    const char *section;
    size_t slen;
} scen_line;

/* The key-setting lines of an effective scenario (tf_scenario_format): comments (the header
 * names the version that wrote it) and blank lines left out. *n lines in a new array. */
static scen_line *scen_lines(const char *text, size_t *n)
{
    size_t cap = 1;
    for (const char *p = text; *p; ++p)
        cap += *p == '\n';
    scen_line *v = malloc(cap * sizeof *v);
    *n = 0;
    if (!v)
        return NULL;
    const char *section = "", *p = text;
    size_t slen = 0;
    while (*p) {
        const char *e = strchr(p, '\n');
        const size_t len = e ? (size_t)(e - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (len > 1 && p[0] == '[') {
            section = p;
            slen = len;
        } else if (len > 0 && p[0] != '#' && p[0] != ';' && eq) {
            size_t klen = (size_t)(eq - p);
            while (klen > 0 && (p[klen - 1] == ' ' || p[klen - 1] == '\t'))
                --klen;
            v[(*n)++] = (scen_line){p, len, klen, section, slen};
        }
        p = e ? e + 1 : p + len;
    }
    return v;
}

static const scen_line *scen_find(const scen_line *v, size_t n, const scen_line *x)
{
    for (size_t i = 0; i < n; ++i)
        if (v[i].slen == x->slen && memcmp(v[i].section, x->section, x->slen) == 0 &&
            v[i].klen == x->klen && memcmp(v[i].line, x->line, x->klen) == 0)
            return &v[i];
    return NULL;
}

/* Whether two lines of one key say the same: the same text, or, for a key with a real value,
 * values within 1e-14 of each other in the key's base unit ("0.27 1/h" prints as
 * 0.0045000000000000005 1/min, 0.0045 another way; "1 d" and "1440.0000000000002 min"). Whole
 * numbers (a seed), names and paths must match exactly. */
static int same_value(const scen_line *a, const scen_line *b)
{
    if (a->len == b->len && memcmp(a->line, b->line, a->len) == 0)
        return 1;
    char section[64], key[128], va[512], vb[512];
    if (a->slen < 3 || a->slen - 2 >= sizeof section || a->klen >= sizeof key)
        return 0;
    snprintf(section, sizeof section, "%.*s", (int)(a->slen - 2), a->section + 1);
    snprintf(key, sizeof key, "%.*s", (int)a->klen, a->line);
    const char *pa = a->line + a->klen, *pb = b->line + b->klen;
    while (*pa == ' ' || *pa == '=')
        ++pa;
    while (*pb == ' ' || *pb == '=')
        ++pb;
    const size_t la = a->len - (size_t)(pa - a->line), lb = b->len - (size_t)(pb - b->line);
    if (la >= sizeof va || lb >= sizeof vb)
        return 0;
    snprintf(va, sizeof va, "%.*s", (int)la, pa);
    snprintf(vb, sizeof vb, "%.*s", (int)lb, pb);
    double x, y;
    if (!tf_scenario_real_value(section, key, va, &x) ||
        !tf_scenario_real_value(section, key, vb, &y))
        return 0;
    if (isinf(x) || isinf(y))
        return x == y;
    return fabs(x - y) <= 1e-14 * fmax(fabs(x), fabs(y));
}

/* Compare two effective scenarios key by key (each key of a section found by its name, in
 * whatever order and whichever version of the program wrote them), ignoring [run] duration
 * and [output] dir; on a difference, describe it in msg (`holder` names where chk came from)
 * and return 1. */
static int scenario_diff(const char *chk, const char *cur, const char *holder, char *msg,
                         size_t len)
{
    size_t na, nb;
    scen_line *a = scen_lines(chk, &na), *b = scen_lines(cur, &nb);
    int differs = 0;
    if (!a || !b) {
        snprintf(msg, len, "(out of memory comparing the scenarios)");
        differs = 1;
    }
    /* run.duration may change (extend a run), and output.dir (a run's directory moved or
     * copied elsewhere, --output pointing there). */
    static const char *const free_keys[2][2] = {{"[run]", "duration"}, {"[output]", "dir"}};
    for (int side = 0; side < 2 && !differs; ++side) {
        const scen_line *v = side ? b : a, *w = side ? a : b;
        const size_t nv = side ? nb : na, nw = side ? na : nb;
        for (size_t i = 0; i < nv && !differs; ++i) {
            const scen_line *x = &v[i], *y = scen_find(w, nw, x);
            int free_key = 0;
            for (int k = 0; k < 2; ++k)
                free_key |= x->slen == strlen(free_keys[k][0]) &&
                            memcmp(x->section, free_keys[k][0], x->slen) == 0 &&
                            x->klen == strlen(free_keys[k][1]) &&
                            memcmp(x->line, free_keys[k][1], x->klen) == 0;
            if (free_key || (y && (side || same_value(x, y))))
                continue;
            differs = 1;
            if (y)
                snprintf(msg, len, "%.*s: %s has '%.*s', the scenario has '%.*s'",
                         (int)x->slen, x->section, holder, (int)x->len, x->line, (int)y->len,
                         y->line);
            else if (side == 0)
                snprintf(msg, len, "%.*s: %s has '%.*s', the scenario has no '%.*s' line",
                         (int)x->slen, x->section, holder, (int)x->len, x->line, (int)x->klen,
                         x->line);
            else
                snprintf(msg, len, "%.*s: the scenario has '%.*s', %s has no '%.*s' line",
                         (int)x->slen, x->section, (int)x->len, x->line, holder, (int)x->klen,
                         x->line);
        }
    }
    free(a);
    free(b);
    return differs;
}

/* Output paths: DIR/NAME.suffix, with room for the checkpoint's ".tmp". */
#define TF_OUT_PATH (TF_PATH_MAX + TF_NAME_MAX + 32)

static tf_status out_path(char out[TF_OUT_PATH], const tf_scenario *s, const char *suffix)
{
    const int n = snprintf(out, TF_OUT_PATH, "%s/%s%s", s->dir, s->name, suffix);
    if (n < 0 || n >= TF_OUT_PATH)
        return TF_ERROR(TF_ERR_USAGE, "output path '%s/%s%s' is too long", s->dir, s->name,
                        suffix);
    return TF_OK;
}

/* An existing file a run writes into as it is (its lock; the NetCDF file it continues on a
 * restart) opens for writing: not another user's file, not on a read-only file system. The
 * open changes nothing. */
static tf_status writable_in_place(const char *path, const char *what)
{
    const int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 && errno != ENOENT)
        return TF_ERROR(TF_ERR_IO, "%s '%s' cannot be written: %s (this run writes into it: a "
                                   "file of another user, or on a read-only file system?)",
                        what, path, strerror(errno));
    if (fd >= 0)
        close(fd);
    return TF_OK;
}

/* An existing file a run replaces or removes (a new file renamed over it; its temporary files
 * and an earlier run's checkpoint removed) may be: in a directory with the sticky bit (/tmp, a
 * shared scratch space) only by the file's owner, the directory's owner or root; elsewhere by
 * whoever may write the directory (tf_run_dir_check). */
static tf_status replaceable(const char *path)
{
    struct stat f, d;
    char dir[TF_OUT_PATH];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    if (lstat(path, &f) != 0 || stat(slash ? dir : ".", &d) != 0 || !(d.st_mode & S_ISVTX))
        return TF_OK;
    const uid_t me = geteuid();
    if (me == 0 || f.st_uid == me || d.st_uid == me)
        return TF_OK;
    return TF_ERROR(TF_ERR_IO, "output file '%s' belongs to another user (uid %ld) in a "
                               "directory with the sticky bit, so this run could not replace "
                               "it: choose another run.name or output.dir",
                    path, (long)f.st_uid);
}

/* Every file a run writes (its temporary files and its lock too) is absent or a regular file
 * this run may replace (or, the lock, write): a directory of that name would fail the run at
 * its first use (the summary's at the very end), opening a FIFO or device would block it for
 * good, where no signal stops it, and a file it may not replace would fail it after it had
 * replaced the others. */
static tf_status output_names_free(const tf_scenario *s)
{
    static const char *const suffix[] = {".nc", ".timeseries.csv", ".chk.nc", ".summary.json",
                                         ".lock", ".nc.tmp", ".timeseries.csv.tmp",
                                         ".chk.nc.tmp", ".summary.json.tmp"};
    for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; ++i) {
        char path[TF_OUT_PATH];
        TF_TRY(out_path(path, s, suffix[i]));
        const char *what = tf_file_kind(path); /* through links */
        if (what)
            return TF_ERROR(TF_ERR_IO, "output file '%s' exists and is %s: move it out of the "
                                       "way or choose another run.name or output.dir",
                            path, what);
        TF_TRY(replaceable(path));
        if (strcmp(suffix[i], ".lock") == 0)
            TF_TRY(writable_in_place(path, "lock file"));
    }
    return TF_OK;
}

/* The refusal of a run whose output another run holds (lock_outputs); who: what its lock file
 * says. */
static tf_status in_use(const tf_scenario *s, const char *who)
{
    return TF_ERROR(TF_ERR_USAGE,
                    "the output '%s/%s.*' is in use by another run (%s); give each run its own "
                    "run.name or output.dir, or wait for that one to end",
                    s->dir, s->name, who[0] ? who : "its lock file says nothing more");
}

/* What the lock file of an open descriptor says of the run holding it (one line). */
static void lock_holder(int fd, char *who, size_t len)
{
    const ssize_t n = pread(fd, who, len - 1, 0);
    who[n > 0 ? n : 0] = '\0';
    who[strcspn(who, "\n")] = '\0';
}

/* For check: whether a run holds the output now (its lock taken), as lock_outputs would find;
 * asked without taking the lock (F_GETLK). */
static tf_status output_not_in_use(const tf_scenario *s)
{
    char path[TF_OUT_PATH];
    TF_TRY(out_path(path, s, ".lock"));
    const int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return TF_OK; /* no lock file: no run; or one this user cannot read (output_names_free) */
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    tf_status st = TF_OK;
    if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK) {
        char who[256];
        lock_holder(fd, who, sizeof who);
        st = in_use(s, who);
    }
    close(fd);
    return st;
}

tf_status tf_run_output_check(const tf_scenario *s)
{
    TF_TRY(tf_run_dir_check(s->dir));
    TF_TRY(output_names_free(s));
    return output_not_in_use(s);
}

void tf_run_disk_need(const tf_scenario *s, double *need, double *avail)
{
    const double cells = (double)s->n[0] * (double)s->n[1] * (double)s->n[2];
    const double steps = ceil(s->duration / s->dt - 1e-9);
    double records = 0.0, rows = 0.0;
    const long long rec_every = tf_run_steps_per(s->interval, s->dt);
    const long long row_every = tf_run_steps_per(s->series_interval, s->dt);
    if (rec_every > 0) /* step 0, every interval, and the last step */
        records = 1.0 + floor(steps / (double)rec_every) + (fmod(steps, (double)rec_every) > 0);
    if (row_every > 0)
        rows = 1.0 + floor(steps / (double)row_every) + (fmod(steps, (double)row_every) > 0);
    int nf = 0;
    for (int f = 0; f < TF_NFIELDS; ++f)
        nf += (int)(s->fields_mask >> f & 1u);
    /* Records are float; the vessel map once; a checkpoint holds the state and the vessel map
     * in the build's precision, and while it is replaced the old and the new one exist; a row
     * is 20 numbers of up to 16 characters. */
    *need = 4.0 * cells * ((double)nf * records + 1.0) +
            2.0 * (TF_NFIELDS + 1.0) * cells * (double)sizeof(tf_real) + 320.0 * rows + 65536.0;
    const char *const suffix[] = {".nc", ".timeseries.csv", ".chk.nc"};
    for (int i = 0; i < 3; ++i) {
        char path[TF_OUT_PATH];
        struct stat sb;
        if (out_path(path, s, suffix[i]) == TF_OK && stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
            *need -= (double)sb.st_size;
    }
    *need = *need > 0.0 ? *need : 0.0;
    /* The file system of output.dir, or of its nearest existing parent (a run makes it). */
    *avail = -1.0;
    char dir[TF_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", s->dir);
    struct statvfs vf;
    while (statvfs(dir, &vf) != 0) {
        char *slash = strrchr(dir, '/');
        if (!slash && strcmp(dir, ".") == 0)
            return;
        if (slash == dir && dir[1] == '\0')
            return; /* not even "/" */
        if (!slash)
            snprintf(dir, sizeof dir, ".");
        else
            slash[slash == dir] = '\0'; /* "/a" -> "/", "a/b" -> "a" */
    }
    *avail = (double)vf.f_bavail * (double)vf.f_frsize;
}

long long tf_run_steps_per(double interval, double dt)
{
    if (!(interval > 0.0))
        return 0;
    const double n = floor(interval / dt + 0.5);
    /* Runs have at most 1e12 steps (tf_scenario_validate): a longer interval falls only on the
     * last step either way, and the clamp keeps the conversion defined (dt may be tiny). */
    return n < 1.0 ? 1 : n > 1e15 ? (long long)1e15 : (long long)n;
}

static int due(long long step, long long every) { return every > 0 && step % every == 0; }

/* When run.dt is coarse for the systemic drivers the tissue sees (they enter each step at its
 * two ends) or for the exchange with the blood: 1 and a note on what is under-resolved; else 0. */
static int dt_note(const tf_scenario *s, char *buf, size_t len)
{
    const tf_schedule *e = &s->exercise;
    const int sessions = e->sessions_per_week > 0 && e->intensity > 0.0 && e->session_duration > 0;
    size_t n = 0;
    buf[0] = '\0';
    if (sessions && s->dt > 0.5 * e->session_duration)
        n += (size_t)snprintf(buf + n, len - n,
                              "run.dt = %g min is more than half an exercise session (%g min): "
                              "the tissue sees the exercise signal at the ends of each step "
                              "only, so the sessions are under-resolved (dt <= %g min resolves "
                              "them)",
                              s->dt, e->session_duration, e->session_duration / 4);
    /* The exchange with the blood in a vessel voxel (v up to 1) relaxes cortisol and the
     * anti-inflammatory cytokine within a step at large dt: exact for one voxel, but split
     * from diffusion it biases the fields near vessels (QA 2026-11-27: the four scenarios'
     * day-28 tumor volume 13-45% low at dt = 2 min, docs/numerics.md). lambda: the rate
     * with v = 1. */
    const double rate = s->p.lambda_C > s->p.lambda_A ? s->p.lambda_C : s->p.lambda_A;
    if (rate > 0.0 && s->dt * rate > 1.0 && n < len)
        n += (size_t)snprintf(buf + n, len - n,
                              "%srun.dt = %g min is %.3g times the time the blood exchange of a "
                              "vessel voxel takes (1/lambda = %.3g min): split from "
                              "diffusion, it biases the fields near vessels and with them the "
                              "tumor (docs/numerics.md: at dt = 2 min the four scenarios' "
                              "day-28 tumor volume came out 13-45%% low, at 0.5 min 3-18%%); dt <= "
                              "%.3g min keeps the product at 0.5 or below, and halving dt shows "
                              "what is left",
                              n ? "; " : "", s->dt, s->dt * rate, 1.0 / rate, 0.5 / rate);
    if (s->dt > 60.0 && n < len)
        n += (size_t)snprintf(buf + n, len - n,
                              "%srun.dt = %g min samples the daily cortisol rhythm %s", n ? "; " : "",
                              s->dt,
                              s->dt >= 1440.0 ? "at one time of day only"
                                              : "at fewer than 24 points a day");
    return n > 0;
}

/* When run.dt is so small that the field precision cannot resolve what a step changes: 1 and a
 * note; else 0. A step computes 1 + dt loss and u + dt prod in the field precision, so a rate r
 * acts through 1 + r dt rounded to a multiple of eps: its effect is off by up to about
 * eps / (r dt) of itself each step, often the same way every step, and lost entirely once r dt
 * falls below eps / 2. Measured in float (docs/numerics.md, "Precision"): the tumor's growth
 * over 6 h off by 0.2% at dt = 0.5 min, 1.3% at 0.1, 3.6% at 0.05, 10% at 0.025, 97% at 0.005,
 * and all of it at the explicit scheme's stable dt on a 10 um grid; down to 0.025 min about
 * 1.4-3.5 times eps / (r_T dt). The slowest of the model's first-order rates that changes its field by 1% or
 * more over the run (r duration >= 0.01: a rate set near 0 does not count) decides; the note
 * fires below RATE_STEPS_MIN roundings a step (at the default r_T, dt < 0.15 min in float;
 * never at a useful dt in double). */
static int precision_note(const tf_scenario *s, char *buf, size_t len)
{
    enum { RATE_STEPS_MIN = 200 };
    const int is_float = sizeof(tf_real) == sizeof(float);
    const double eps = is_float ? FLT_EPSILON : DBL_EPSILON;
    const struct {
        const char *key, *field;
        double r; /* 1/min */
    } rates[] = {{"r_T", "the tumor", s->p.r_T},
                 {"mu_E", "the effector cells", s->p.mu_E},
                 {"mu_S", "the suppressor cells", s->p.mu_S},
                 {"mu_P", "the pro-inflammatory cytokine", s->p.mu_P},
                 {"mu_A", "the anti-inflammatory cytokine", s->p.mu_A},
                 {"mu_C", "cortisol", s->p.mu_C}};
    int slow = -1;
    for (int q = 0; q < (int)(sizeof rates / sizeof rates[0]); ++q)
        if (rates[q].r * s->duration >= 0.01 && (slow < 0 || rates[q].r < rates[slow].r))
            slow = q;
    if (slow < 0)
        return 0;
    const double r = rates[slow].r, per_step = r * s->dt, q = per_step / eps;
    if (q >= RATE_STEPS_MIN)
        return 0;
    char size[192];
    if (q < 2)
        snprintf(size, sizeof size, "less than two roundings of %s (%.2g), so most of it rounds away",
                 is_float ? "float" : "double", eps);
    else
        snprintf(size, sizeof size, "and one rounding of %s (%.2g) is %.2g%% of that, so its effect "
                 "comes out biased by about that or more", is_float ? "float" : "double", eps,
                 100.0 / q);
    snprintf(buf, len,
             "run.dt = %g min is small for this %s build: a step changes %s (model.%s = %.3g /min, "
             "the slowest rate of the run) by %.2g of its value, %s; below %.3g min a smaller dt "
             "no longer brings the answer closer to the dt -> 0 limit (docs/numerics.md, "
             "\"Precision\"): %s run.dt at or above that%s",
             s->dt, is_float ? "float" : "double", rates[slow].field, rates[slow].key, r,
             per_step, size, RATE_STEPS_MIN * eps / r,
             s->scheme == TF_SCHEME_EXPLICIT ? "use run.scheme = lod with" : "keep",
             is_float ? ", or build with -DTF_PRECISION=double for smaller steps" : "");
    return 1;
}

/* When time counted in steps moves the end of the run or an output interval: 1 and a note
 * saying where each falls; else 0. */
static int steps_note(const tf_scenario *s, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    const double steps = ceil(s->duration / s->dt - 1e-9);
    if (fabs(steps * s->dt - s->duration) > 1e-9 * s->duration)
        n += (size_t)snprintf(buf + n, len - n,
                              "run.duration = %g min is not a whole number of steps of %g min: "
                              "the run ends at t = %.6g min, after %.0f steps",
                              s->duration, s->dt, steps * s->dt, steps);
    const struct {
        const char *key;
        double v;
    } every[3] = {{"output.interval", s->interval},
                  {"output.timeseries_interval", s->series_interval},
                  {"checkpoint.interval", s->checkpoint_interval}};
    for (int e = 0; e < 3 && n < len; ++e) {
        const long long k = tf_run_steps_per(every[e].v, s->dt);
        if (k > 0 && fabs((double)k * s->dt - every[e].v) > 1e-9 * every[e].v)
            n += (size_t)snprintf(buf + n, len - n, "%s%s = %g min is taken as every %lld steps, "
                                  "every %.6g min", n ? "; " : "", every[e].key, every[e].v, k,
                                  (double)k * s->dt);
    }
    return n > 0;
}

/* When the grid has one cell along some axis (a 2D run): 1 and a note on viewing it; else 0. */
static int flat_note(const tf_scenario *s, char *buf, size_t len)
{
    char axes[16] = "";
    for (int d = 0; d < 3; ++d)
        if (s->n[d] == 1)
            snprintf(axes + strlen(axes), sizeof axes - strlen(axes), "%s%c", axes[0] ? " and " : "",
                     "xyz"[d]);
    if (!axes[0])
        return 0;
    snprintf(buf, len,
             "one cell along %s: the files are whole, but ParaView's NetCDF CF reader cannot "
             "place a one-cell axis (tf_render.py, in tools/ of the source tree and bin/ of an "
             "install, refuses it); 2 cells along it can be viewed (docs/visualisation.md)",
             axes);
    return 1;
}

void tf_run_print_notes(const tf_scenario *s, const char *prefix)
{
    int (*const notes[4])(const tf_scenario *, char *, size_t) = {steps_note, flat_note,
                                                                   dt_note, precision_note};
    char note[1024];
    for (int q = 0; q < 4; ++q)
        if (notes[q](s, note, sizeof note))
            printf("%s%s\n", prefix, note);
}

/* Everything one run holds. */
typedef struct {
    const tf_scenario *s;
    const tf_run_options *o;
    const char *restart; /* the checkpoint this run continues from (--restart, --resume), or NULL */
    int restored;        /* a restart wrote a record or row its files lacked (restore_missing) */
    tf_grid g;   /* this rank's block */
    tf_par par;  /* the decomposition (1 x 1 x 1 without MPI) */
    /* Two sets of host field arrays (padded): set[good] holds the last state that passed its
     * check (what a checkpoint saves); a record in flight on the writer thread may hold either. */
    tf_real *set[2][TF_NFIELDS];
    int good;
    tf_real *vessel;
    tf_solver *solver;
    tf_ncout *nc;
    tf_writer *writer;
    tf_series *series;
    char *effective;
    char nc_path[TF_OUT_PATH], csv_path[TF_OUT_PATH];
    char chk_path[TF_OUT_PATH], sum_path[TF_OUT_PATH];
    long long step, nsteps;
    tf_drivers drv;
    /* The step whose state last passed tf_solver_check_state (-1: none), and the last state
     * that passed it held in set[good] on the host. */
    long long checked_step;
    long long good_step;
    tf_drivers good_drv;
    /* The last record handed to the writer: its set of arrays, step and drivers. That set is
     * not refilled before the writer has said how the record went (fetch_checked), so after a
     * failed record its state is still at hand for the checkpoint (save_after_output_failure). */
    int rec_set; /* -1: none yet */
    long long rec_step;
    tf_drivers rec_drv;
    int chk_written, chk_failed; /* this run wrote a checkpoint; a checkpoint write failed */
    int outputs_begun;             /* this run created its output or reopened it for a restart */
    char chk_version[96];          /* the program that wrote the checkpoint, where not this one */
    tf_series_row last_row;
    int have_row;
    double wall0;
    long long steps_this_run;
    /* Progress: the steps' rate counts from the first step (a restart's start-up, reading a
     * checkpoint and its files, is no part of it), and lines come at every 5% of the run past
     * the one the run starts in. */
    double loop_wall0;
    int last_pct;
    int lock_fd; /* rank 0: NAME.lock held for the run (lock_outputs); -1: none */
    char lock_path[TF_OUT_PATH];
} run_ctx;

static double time_of(const run_ctx *r, long long step) { return (double)step * r->s->dt; }

/* Steps of the run: it ends at the first step at or past run.duration. */
static long long run_steps(const tf_scenario *s)
{
    return (long long)ceil(s->duration / s->dt - 1e-9);
}

/* A checkpoint at `step` lies within this run (a restart may lengthen run.duration only). */
static tf_status restart_within(const run_ctx *r, const char *path, long long step)
{
    if (step > r->nsteps)
        return TF_ERROR(TF_ERR_USAGE,
                        "restart from '%s': the checkpoint is at step %lld (t = %.6g min), past "
                        "the end of this run (run.duration = %g min, %lld steps); restart with a "
                        "longer run.duration",
                        path, step, time_of(r, step), r->s->duration, r->nsteps);
    return TF_OK;
}

/* Time of the last output of an `interval` (records, rows; every run writes one at step 0)
 * due before the current step; -1 at step 0. */
static double due_before(const run_ctx *r, double interval)
{
    if (r->step <= 0)
        return -1.0;
    const long long every = tf_run_steps_per(interval, r->s->dt);
    return every > 0 ? time_of(r, (r->step - 1) / every * every) : 0.0;
}

static double global_cells(const tf_grid *g)
{
    return (double)g->gn[0] * (double)g->gn[1] * (double)g->gn[2];
}

static tf_derived derive_at(const run_ctx *r, const tf_drivers *d, double t)
{
    return tf_drivers_derive(d, &r->s->p, &r->s->exercise, r->s->depression, t);
}

/* Check the state on the backend (once per step): a state gone bad (negative, not finite)
 * ends the run with TF_ERR_NUMERIC before any output of it. */
static tf_status check_now(run_ctx *r)
{
    if (r->checked_step == r->step)
        return TF_OK;
    tf_bad_cell bad;
    TF_TRY(tf_solver_check_state(r->solver, &bad));
    r->checked_step = r->step;
    return TF_OK;
}

/* Check the state on the backend, download it into the set the writer does not hold, and keep
 * it as the last good state. */
static tf_status fetch_checked(run_ctx *r)
{
    TF_TRY(check_now(r));
    const int target = r->good ^ 1;
    if (r->writer && target == r->rec_set)
        TF_TRY(tf_writer_wait(r->writer));
    TF_TRY(tf_solver_get_state(r->solver, r->set[target], (1u << TF_NFIELDS) - 1));
    r->good = target;
    r->good_step = r->step;
    r->good_drv = r->drv;
    return TF_OK;
}

/* Checkpoint the state in set[set] at `step`. */
static tf_status checkpoint_of(run_ctx *r, int set, long long step, const tf_drivers *drv)
{
    const double t0 = tf_wtime();
    const tf_checkpoint_info info = {.step = step, .t = time_of(r, step), .drv = *drv};
    tf_status st = tf_checkpoint_write(r->chk_path, &r->g, &r->par, r->set[set], r->vessel, &info,
                                       r->effective);
    tf_solver_time_add(r->solver, TF_STAGE_CHECKPOINT, tf_wtime() - t0);
    r->chk_written |= st == TF_OK;
    r->chk_failed |= st != TF_OK;
    return st;
}

/* Checkpoint the last good state. NetCDF is not thread-safe, so the record in flight finishes
 * first; if it failed, no checkpoint past it is written (a restart from there would leave the
 * file without that record): the failure ends the run, and tf_run saves the failed record's
 * state instead (save_after_output_failure). */
static tf_status write_checkpoint(run_ctx *r)
{
    if (r->writer)
        TF_TRY(tf_writer_wait(r->writer));
    return checkpoint_of(r, r->good, r->good_step, &r->good_drv);
}

/* Diagnostics over all ranks; rank 0 writes the row. */
/* Whether diagnostics can come from a valid state: every sum and maximum finite and none
 * negative (NaN spreads into the sums; a field gone negative pulls its sum down on the CPU). */
static int diag_sane(const tf_diag *d)
{
    for (int f = 0; f < TF_NFIELDS; ++f)
        if (!(isfinite(d->total[f]) && isfinite(d->weighted[f]) && isfinite(d->max[f]) &&
              d->total[f] >= 0.0 && d->max[f] >= 0.0))
            return 0;
    return 1;
}

/* The time-series row of the state in hand (collective), kept as the summary's final row. */
static tf_status make_row(run_ctx *r)
{
    /* No row of a state gone bad: a slightly negative value does not show in the sums. */
    TF_TRY(check_now(r));
    tf_diag d;
    TF_TRY(tf_solver_diagnostics(r->solver, &d));
    if (!diag_sane(&d)) {
        /* A state gone bad stops the run here, before its row: the check names the cell. */
        tf_bad_cell bad;
        TF_TRY(tf_solver_check_state(r->solver, &bad));
        return TF_ERROR(TF_ERR_NUMERIC, "the diagnostics are not finite (a sum past the range of "
                                        "the field precision?)");
    }
    const double t = time_of(r, r->step);
    const tf_derived q = derive_at(r, &r->drv, t);
    r->last_row = tf_series_row_make(t, &d, &r->g, &r->drv, &q);
    r->have_row = 1;
    return TF_OK;
}

static tf_status write_row(run_ctx *r)
{
    TF_TRY(make_row(r));
    return tf_par_agree(&r->par, r->series ? tf_series_write(r->series, &r->last_row) : TF_OK);
}

/* Check and fetch the state, then hand it to the writer thread: the solver steps on while the
 * record goes to disk. */
static tf_status write_record(run_ctx *r)
{
    TF_TRY(fetch_checked(r));
    if (r->writer)
        TF_TRY(tf_writer_wait(r->writer)); /* the previous record's failure is not this one's */
    r->rec_set = r->good;
    r->rec_step = r->step;
    r->rec_drv = r->drv;
    return tf_writer_submit(r->writer, time_of(r, r->step), r->set[r->good]);
}

/* Whether a file's last entry (NAN: none) is the one at time t. */
static int entry_at(double last, double t)
{
    return !isnan(last) && fabs(last - t) <= TF_TIME_TOL * fmax(1.0, fabs(t));
}

/* On a restart at a step where a record or a row is due whose file lacks it (an output failure
 * ended the run that wrote the checkpoint there, see save_after_output_failure), write it
 * first, so that the files have every record and row an uninterrupted run writes. */
static tf_status restore_missing(run_ctx *r)
{
    const tf_scenario *s = r->s;
    const double t = time_of(r, r->step);
    const int last = r->step == r->nsteps;
    const int row_due = due(r->step, tf_run_steps_per(s->series_interval, s->dt)) || last;
    const int row_missing = r->series && !entry_at(tf_series_last_time(r->series), t);
    if (tf_par_any(&r->par, row_due && row_missing)) {
        TF_TRY(write_row(r));
        r->restored = 1;
    }
    if ((due(r->step, tf_run_steps_per(s->interval, s->dt)) || last) &&
        !entry_at(tf_ncout_last_time(r->nc), t)) {
        TF_TRY(write_record(r));
        r->restored = 1;
    }
    return TF_OK;
}

/* After an output failure (disk full, say), save a state from which a restart leaves no
 * record or row missing: the state of the record that failed (the restart writes that record
 * first), or, when the records are whole and a time-series row failed, the current state (the
 * restart writes its row, and its record when one is due). After a failed checkpoint nothing
 * more is tried: the previous checkpoint stays as it was. Returns the step saved, or -1. */
static long long save_after_output_failure(run_ctx *r)
{
    if (r->chk_failed)
        return -1;
    if (r->writer && tf_writer_wait(r->writer) != TF_OK)
        return r->rec_set >= 0 && checkpoint_of(r, r->rec_set, r->rec_step, &r->rec_drv) == TF_OK
                   ? r->rec_step
                   : -1;
    if (r->good_step != r->step && fetch_checked(r) != TF_OK)
        return -1;
    return checkpoint_of(r, r->good, r->good_step, &r->good_drv) == TF_OK ? r->good_step : -1;
}

/* Fold the writer thread's time into the output stage. */
static void collect_output_time(run_ctx *r)
{
    if (!r->writer || !r->solver)
        return;
    double sec;
    long long n;
    tf_writer_collect(r->writer, &sec, &n);
    for (long long i = 0; i < n; ++i)
        tf_solver_time_add(r->solver, TF_STAGE_OUTPUT, sec / (double)n);
}

static int percent_done(const run_ctx *r)
{
    return r->nsteps > 0 ? (int)(100.0 * (double)r->step / (double)r->nsteps) : 100;
}

/* Simulated time in the unit of the run's length: min below 2 h, h below 2 d, else d. */
static void sim_time(char *buf, size_t len, double t, double duration)
{
    if (duration < 120.0)
        snprintf(buf, len, "%.1f min", t);
    else if (duration < 2880.0)
        snprintf(buf, len, "%.2f h", t / 60.0);
    else
        snprintf(buf, len, "%.2f d", t / 1440.0);
}

static void progress(run_ctx *r, int final)
{
    if (r->o->quiet)
        return;
    const int pct = percent_done(r);
    /* An updating line on a terminal; plain lines in a log. mpirun hands its processes a
     * pseudo-terminal even when its own output goes to a job's log: with MPI, plain lines. */
    const int tty = isatty(STDOUT_FILENO) && r->par.size == 1;
    const double wall = tf_wtime() - r->loop_wall0;
    const double sps = wall > 0 ? (double)r->steps_this_run / wall : 0.0;
    const double eta = sps > 0 ? (double)(r->nsteps - r->step) / sps : 0.0;
    char when[32];
    sim_time(when, sizeof when, time_of(r, r->step), r->s->duration);
    if (tty) {
        static double last_print;
        const double now = tf_wtime();
        if (!final && now - last_print < 0.2)
            return;
        last_print = now;
        printf("\r  %3d%%  t = %10s  step %lld/%lld  %.1f steps/s  ETA %.0f s   ", pct, when,
               r->step, r->nsteps, sps, eta);
        if (final)
            printf("\n");
        fflush(stdout);
    } else if (final || pct / 5 != r->last_pct / 5) {
        printf("progress: %3d%%  t = %s  step %lld/%lld  %.1f steps/s  ETA %.0f s\n", pct, when,
               r->step, r->nsteps, sps, eta);
        fflush(stdout);
    }
    r->last_pct = pct;
}

static void print_timers(const run_ctx *r)
{
    const tf_timers *tm = tf_solver_timers(r->solver);
    double total = 0;
    for (int i = 0; i < TF_NSTAGES; ++i)
        total += tm->seconds[i];
    printf("stage timings (%s):\n", tf_solver_description(r->solver));
    for (int i = 0; i < TF_NSTAGES; ++i)
        if (tm->calls[i] > 0)
            printf("  %-12s %10.3f s %6.1f%% %10lld calls\n", tf_stage_name[i], tm->seconds[i],
                   total > 0 ? 100.0 * tm->seconds[i] / total : 0.0, tm->calls[i]);
}

/* The summary (rank 0 writes it; the others return TF_OK). */
static tf_status write_summary(run_ctx *r, const char *status)
{
    if (!tf_par_root(&r->par))
        return TF_OK;
    const double wall = tf_wtime() - r->wall0;
    tf_summary sm = {
        .status = status,
        .steps = r->step,
        .t_end = time_of(r, r->step),
        .wall_seconds = wall,
        .backend = !r->solver                                           ? NULL
                   : tf_solver_backend(r->solver) == TF_BACKEND_CUDA ? "cuda"
                                                                     : "cpu",
        .device = r->solver ? tf_solver_description(r->solver) : NULL,
        .voxel_updates_per_second =
            wall > 0 ? global_cells(&r->g) * (double)r->steps_this_run / wall : 0.0,
        .timers = r->solver ? tf_solver_timers(r->solver) : NULL,
        .final_row = r->have_row ? &r->last_row : NULL,
        /* Only the files this run wrote (or continued). */
        .output_path = r->nc ? r->nc_path : NULL,
        .series_path = r->series ? r->csv_path : NULL,
        /* What a restart continues from: this run's last checkpoint, else the one it read. */
        .checkpoint_path = r->chk_written ? r->chk_path : r->restart,
    };
    return tf_summary_write(r->sum_path, &sm);
}

/* Refuse, before anything is written, a grid whose host arrays exceed the machine's physical
 * memory: the two host sets and the vessel map of the run (13 arrays) and, on the CPU backend,
 * the solver state (tf_scenario_state_arrays). */
double tf_host_memory_usable(double *physical)
{
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    *physical = pages > 0 && page > 0 ? (double)pages * (double)page : 0.0;
    return TF_HOST_MEMORY_SHARE * *physical;
}

tf_status tf_run_host_memory(const tf_scenario *s, tf_backend_kind kind, const tf_grid *g,
                             int node_procs)
{
    double physical;
    const double usable = tf_host_memory_usable(&physical);
    if (!(usable > 0.0))
        return TF_OK; /* unknown: the allocations decide */
    const int cpu = kind == TF_BACKEND_CPU;
    const int arrays = 13 + (cpu ? tf_scenario_state_arrays(s) : 0);
    const double padded = (double)g->nalloc; /* this process's block */
    const int procs = node_procs > 1 ? node_procs : 1;
    const double need = (double)procs * (double)arrays * padded * (double)sizeof(tf_real);
    char who[64] = "";
    if (procs > 1)
        snprintf(who, sizeof who, " for each of the %d processes of this node", procs);
    if (need > usable)
        return TF_ERROR(TF_ERR_USAGE,
                        "[grid] n = %lld %lld %lld needs %.4g GiB of host memory (%d arrays of "
                        "%.4g cells with ghosts, %zu bytes each%s%s), more than %.0f%% of the "
                        "%.4g GiB of this machine (the rest is left to the system and the "
                        "libraries); use a smaller grid%s",
                        (long long)s->n[0], (long long)s->n[1], (long long)s->n[2],
                        need / 1073741824.0, arrays, padded, sizeof(tf_real),
                        cpu ? ", with the cpu backend's state" : "", who,
                        100.0 * TF_HOST_MEMORY_SHARE, physical / 1073741824.0,
                        procs > 1 ? " or fewer processes per node" : "");
    return TF_OK;
}

tf_status tf_run_place(const tf_scenario *s, const int procs[3], tf_backend_kind asked,
                       tf_grid *g, tf_par *par, tf_backend_kind *kind)
{
    TF_TRY(tf_grid_init(g, s->n[0], s->n[1], s->n[2], s->spacing));
    int periodic[3];
    for (int d = 0; d < 3; ++d) {
        periodic[d] = 0;
        for (int f = 0; f < TF_NFIELDS; ++f)
            periodic[d] |= s->bcs.bc[f][2 * d].kind == TF_BC_PERIODIC;
    }
    TF_TRY(tf_par_decompose(par, g, procs, periodic));
    /* A backend that cannot be had is refused here, before the output directory exists, as
     * any bad input (the solver makes the same choice). */
    TF_TRY(tf_backend_choose(asked, par, kind));
    return tf_run_host_memory(s, *kind, g, par->node_size);
}

/* The grid, this rank's block of it and the output paths; every rank agrees on the result. */
static tf_status start_grid(run_ctx *r)
{
    const tf_scenario *s = r->s;
    tf_backend_kind kind;
    TF_TRY(tf_run_place(s, r->o->procs, r->o->backend, &r->g, &r->par, &kind));
    r->effective = tf_scenario_format(s);
    if (!r->effective)
        return TF_ERROR(TF_ERR_NOMEM, "out of memory formatting the scenario");
    TF_TRY(out_path(r->nc_path, s, ".nc"));
    TF_TRY(out_path(r->csv_path, s, ".timeseries.csv"));
    TF_TRY(out_path(r->chk_path, s, ".chk.nc"));
    TF_TRY(out_path(r->sum_path, s, ".summary.json"));
    return TF_OK;
}

/* The program named by the header of an effective scenario ("# effective scenario (tumorfield
 * 0.1.0, commit abc123def456): ...") into buf; "" where it names none. */
static void program_of(const char *text, char *buf, size_t len)
{
    static const char lead[] = "# effective scenario (";
    buf[0] = '\0';
    if (strncmp(text, lead, sizeof lead - 1) != 0)
        return;
    const char *p = text + sizeof lead - 1, *e = strchr(p, ')');
    const char *nl = strchr(p, '\n');
    if (e && (!nl || e < nl))
        snprintf(buf, len, "%.*s", (int)(e - p), p);
}

/* Whether the effective scenario `text` (freed here), as `holder` has it, differs from this
 * run's in a key a restart may not change; the difference in diff. */
static int differs_from_run(const run_ctx *r, char *text, const char *holder, char *diff,
                            size_t len)
{
    const int differs = scenario_diff(text, r->effective, holder, diff, len);
    free(text);
    return differs;
}

/* The scenario of the checkpoint at `path` is this run's but for the keys a restart may change;
 * the program that wrote it, where not this one, into r->chk_version. Fields are not read. */
static tf_status checkpoint_is_this_run(run_ctx *r, const char *path)
{
    char *chk_text = NULL, diff[1024];
    TF_TRY(tf_checkpoint_scenario(path, &chk_text));
    program_of(chk_text, r->chk_version, sizeof r->chk_version);
    char mine[sizeof r->chk_version];
    program_of(r->effective, mine, sizeof mine);
    if (strcmp(r->chk_version, mine) == 0)
        r->chk_version[0] = '\0';
    if (differs_from_run(r, chk_text, "the checkpoint", diff, sizeof diff))
        return TF_ERROR(TF_ERR_USAGE,
                        "restart from '%s': the scenario conflicts with the checkpoint in %s "
                        "(only run.duration and output.dir may change on a restart)",
                        path, diff);
    return TF_OK;
}

/* A checkpoint's step is at its time with this run's dt (a run writes the time of its step:
 * step dt, and the scenarios agree on dt), and within this run. */
static tf_status checkpoint_time_fits(const run_ctx *r, const char *path,
                                      const tf_checkpoint_info *info)
{
    const double t_step = time_of(r, info->step);
    if (!(fabs(info->t - t_step) <= 1e-9 * fmax(1.0, t_step)))
        return TF_ERROR(TF_ERR_USAGE,
                        "restart from '%s': the checkpoint's step %lld is at t = %.9g min with "
                        "run.dt = %g min, but its time_min is %.9g: not a saved state (damaged "
                        "or edited file?)",
                        path, info->step, t_step, r->s->dt, info->t);
    return restart_within(r, path, info->step);
}

/* The host arrays and the initial (or restarted) state of this rank's block. */
static tf_status start_state(run_ctx *r)
{
    const tf_scenario *s = r->s;
    for (int k = 0; k < 2; ++k)
        for (int f = 0; f < TF_NFIELDS; ++f)
            if (!(r->set[k][f] = calloc((size_t)r->g.nalloc, sizeof(tf_real))))
                return TF_ERROR(TF_ERR_NOMEM, "out of memory for the host state (%.3f GiB)",
                                13.0 * (double)r->g.nalloc * sizeof(tf_real) / 1073741824.0);
    if (!(r->vessel = calloc((size_t)r->g.nalloc, sizeof(tf_real))))
        return TF_ERROR(TF_ERR_NOMEM, "out of memory for the vessel map");

    if (r->restart) {
        TF_TRY(checkpoint_is_this_run(r, r->restart));
        tf_checkpoint_info info;
        TF_TRY(tf_par_agree(&r->par,
                            tf_checkpoint_read(r->restart, &r->g, r->set[0], r->vessel, &info)));
        TF_TRY(tf_checkpoint_verify(r->restart, &r->par, &info));
        TF_TRY(checkpoint_time_fits(r, r->restart, &info));
        r->step = info.step;
        r->drv = info.drv;
    } else {
        TF_TRY(tf_initial_state(s, &r->g, &r->par, r->set[0], r->vessel));
        r->step = 0;
        memset(&r->drv, 0, sizeof r->drv);
    }
    return TF_OK;
}

/* The NetCDF output a restart continues was made by this scenario (checked against the
 * checkpoint's already): a file swapped in from another run with the same output times would
 * be continued into a mix of two runs. Rank 0 reads it serially (a missing file is named as
 * such, which a parallel open does not). */
static tf_status same_scenario_output(const run_ctx *r)
{
    char *text = NULL, diff[1024];
    TF_TRY(tf_ncout_scenario(r->nc_path, &text));
    if (differs_from_run(r, text, "the file", diff, sizeof diff))
        return TF_ERROR(TF_ERR_USAGE,
                        "restart: '%s' is the output of another scenario than this run's (%s); "
                        "restart with the files of the checkpoint's run",
                        r->nc_path, diff);
    return TF_OK;
}

/* Rank 0: hold DIR/NAME.lock (a POSIX record lock, released when the process ends, also by a
 * crash) for the whole run, so that a second run of the same name in the same directory (a
 * sweep that forgot run.name, a job started twice) stops before it touches the files the first
 * one writes. The file says who holds it; it is removed at the end. Where the file system has
 * no locks, a note says so and the run goes on. */
static tf_status lock_outputs(run_ctx *r)
{
    const tf_scenario *s = r->s;
    TF_TRY(out_path(r->lock_path, s, ".lock"));
    for (int tries = 0; tries < 8; ++tries) {
        const int fd = open(r->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
            return TF_ERROR(TF_ERR_IO, "cannot create the lock file '%s': %s", r->lock_path,
                            strerror(errno));
        struct flock fl;
        memset(&fl, 0, sizeof fl);
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        if (fcntl(fd, F_SETLK, &fl) != 0) {
            const int e = errno;
            if (e == EACCES || e == EAGAIN) {
                char who[256];
                lock_holder(fd, who, sizeof who);
                close(fd);
                return in_use(s, who);
            }
            close(fd);
            if (!r->o->quiet)
                printf("note: cannot lock '%s' (%s): nothing stops another run of the same name "
                       "from writing into '%s' meanwhile\n",
                       r->lock_path, strerror(e), s->dir);
            return TF_OK;
        }
        /* A run that ended removed the file after this one opened it: lock the new one. */
        struct stat held, named;
        if (fstat(fd, &held) == 0 && stat(r->lock_path, &named) == 0 &&
            held.st_ino == named.st_ino && held.st_dev == named.st_dev) {
            char host[256] = "?", when[64] = "?";
            gethostname(host, sizeof host - 1);
            const time_t now = time(NULL);
            struct tm tm;
            if (gmtime_r(&now, &tm))
                strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
            if (ftruncate(fd, 0) == 0)
                dprintf(fd, "pid %ld on host %s since %s\n", (long)getpid(), host, when);
            r->lock_fd = fd;
            return TF_OK;
        }
        close(fd);
    }
    return TF_ERROR(TF_ERR_IO, "cannot take the lock file '%s': it keeps being replaced",
                    r->lock_path);
}

static void unlock_outputs(run_ctx *r)
{
    if (r->lock_fd < 0)
        return;
    unlink(r->lock_path); /* while held: a run that opened it before takes the next one */
    close(r->lock_fd);
    r->lock_fd = -1;
}

/* --resume without the run's checkpoint starts afresh, which replaces the run's files: only where
 * there are none. Files without their checkpoint are an earlier start's that ended before it
 * wrote one (SIGKILL at a job's time limit, out of memory, a node lost, a failed step): starting
 * afresh over them would throw its records away, and a requeued job killed at the same point of
 * every start would never end. Called under the run's lock (a run in progress is named by it). */
static tf_status resume_afresh(const run_ctx *r)
{
    const char *const paths[2] = {r->nc_path, r->csv_path};
    for (int i = 0; i < 2; ++i)
        if (access(paths[i], F_OK) == 0)
            return TF_ERROR(TF_ERR_USAGE,
                            "--resume: '%s' is there, but not the checkpoint '%s' that would "
                            "continue it: an earlier start of run '%s' ended before it wrote "
                            "one (killed, or failed), and starting afresh would replace its "
                            "output; move the files away, or run without --resume, to start "
                            "afresh (checkpoint.interval lets a killed start be continued)",
                            paths[i], r->chk_path, r->s->name);
    return TF_OK;
}

/* The NetCDF output a restart continues is there and of this scenario (read only: run and
 * check refuse it before anything is made; an empty directory was left behind). */
static tf_status restart_files_of_run(const run_ctx *r)
{
    if (access(r->nc_path, F_OK) != 0)
        return TF_ERROR(TF_ERR_IO,
                        "cannot reopen NetCDF output '%s' for the restart: %s (a restart "
                        "continues the files of the checkpoint's run: --output or output.dir "
                        "names the directory that holds them)",
                        r->nc_path, strerror(errno));
    TF_TRY(writable_in_place(r->nc_path, "NetCDF output"));
    return same_scenario_output(r);
}

tf_status tf_run_restart_check(const tf_scenario *s, const tf_run_options *o, char *used,
                               size_t len)
{
    run_ctx r;
    memset(&r, 0, sizeof r);
    r.s = s;
    r.o = o;
    used[0] = '\0';
    TF_TRY(out_path(r.nc_path, s, ".nc"));
    TF_TRY(out_path(r.csv_path, s, ".timeseries.csv"));
    TF_TRY(out_path(r.chk_path, s, ".chk.nc"));
    const char *path = o->restart;
    if (o->resume && access(r.chk_path, F_OK) == 0)
        path = r.chk_path;
    else if (o->resume)
        return resume_afresh(&r);
    if (!path)
        return TF_OK;
    if (!(r.effective = tf_scenario_format(s)))
        return TF_ERROR(TF_ERR_NOMEM, "out of memory formatting the scenario");
    /* What a run checks before it writes anything, in its order: the checkpoint (its scenario,
     * its whole content with the checksums, its step within the run), then the files it
     * continues (there, of this scenario, open to this many processes, holding every record
     * and row due before the checkpoint's time). The checkpoint is read in slabs, so that
     * `check` needs little memory whatever the grid. */
    r.nsteps = run_steps(s);
    tf_grid whole;
    tf_checkpoint_info info;
    memset(&info, 0, sizeof info);
    tf_status st = checkpoint_is_this_run(&r, path);
    if (st == TF_OK)
        st = tf_grid_init(&whole, s->n[0], s->n[1], s->n[2], s->spacing);
    if (st == TF_OK)
        st = tf_checkpoint_check(path, &whole, &info);
    if (st == TF_OK)
        st = checkpoint_time_fits(&r, path, &info);
    if (st == TF_OK)
        st = restart_files_of_run(&r);
    if (st == TF_OK)
        st = tf_ncout_continuable(r.nc_path, tf_par_world_size());
    if (st == TF_OK) {
        r.step = info.step;
        const double t = time_of(&r, r.step);
        st = tf_series_check_restart(r.csv_path, t, due_before(&r, s->series_interval));
        if (st == TF_OK)
            st = tf_ncout_check_restart(r.nc_path, s, &whole, t, due_before(&r, s->interval));
    }
    free(r.effective);
    if (st == TF_OK)
        snprintf(used, len, "%s", path);
    return st;
}

/* Everything before the first step. Each part that may fail on some ranks only ends in an
 * agreement, so that all ranks go on or all stop with the same error. */
static tf_status start(run_ctx *r)
{
    const tf_scenario *s = r->s;
    TF_TRY(tf_par_agree(&r->par, start_grid(r)));
    const int root = tf_par_root(&r->par); /* set by the decomposition in start_grid */
    /* --resume: the run's own checkpoint when there is one (rank 0 looks, all follow). */
    if (r->o->resume && tf_par_any(&r->par, root && access(r->chk_path, F_OK) == 0))
        r->restart = r->chk_path;
    r->nsteps = run_steps(s);
    TF_TRY(tf_par_agree(&r->par, root ? output_names_free(s) : TF_OK));
    /* The inputs (a checkpoint, vessels.file, initial.file) are read before anything is
     * created or printed: a bad one leaves no trace but its message. */
    TF_TRY(tf_par_agree(&r->par, start_state(r)));
    if (!r->o->quiet) {
        fputs(r->effective, stdout);
        fflush(stdout);
    }
    TF_TRY(tf_par_agree(&r->par, root && r->restart ? restart_files_of_run(r) : TF_OK));
    TF_TRY(tf_par_agree(&r->par, root ? make_dirs(s->dir) : TF_OK));
    TF_TRY(tf_par_agree(&r->par, root ? lock_outputs(r) : TF_OK));
    if (r->o->resume && !r->restart)
        TF_TRY(tf_par_agree(&r->par, root ? resume_afresh(r) : TF_OK));
    if (root && r->lock_fd >= 0) {
        /* Temporary files a run of this name left when it died while replacing its checkpoint
         * or time series, or creating its NetCDF file: nobody else writes them while the lock
         * is held (without a lock, one may be another run's work in progress; a restart from
         * one is left alone too). */
        const char *const paths[3] = {r->chk_path, r->csv_path, r->nc_path};
        for (int i = 0; i < 3; ++i) {
            char tmp[TF_OUT_PATH + 8];
            snprintf(tmp, sizeof tmp, "%s.tmp", paths[i]);
            if (!r->restart || strcmp(r->restart, tmp) != 0)
                unlink(tmp);
        }
    }
    /* The restart, backend and run lines and the notes also with --quiet: a job's log says
     * whether a start resumed, and from where, and what it runs on (README, "--quiet"). */
    if (r->restart) {
        printf("restart: from '%s' at step %lld, t = %.6g min\n", r->restart, r->step,
               time_of(r, r->step));
        if (r->step >= r->nsteps)
            printf("restart: the checkpoint is at the end of the run: no step left; the "
                   "fields, the time series and the summary stay as they are (a longer "
                   "run.duration continues it)\n");
        if (r->chk_version[0])
            printf("note: the checkpoint was written by %s, this is tumorfield %s, commit %s: "
                   "the run goes on from its state, but is not bit for bit what one run of "
                   "either build gives\n",
                   r->chk_version, TF_VERSION_STRING, tf_build_commit);
    }
    r->good_step = r->step;
    r->good_drv = r->drv;

    TF_TRY(tf_par_agree(&r->par, tf_solver_create_par(&r->solver, r->o->backend, &r->g, &r->par,
                                                      &s->bcs, &s->p, s->scheme, s->dt)));
    {
        const char *why = "";
        if (r->o->backend == TF_BACKEND_AUTO)
            why = tf_solver_backend(r->solver) == TF_BACKEND_CUDA
                      ? " (auto: a CUDA device is present)"
                  : r->par.size > 1 && tf_cuda_device_count() > 0
                      ? " (auto: not every process has a GPU of its own that this build runs "
                        "on)"
                  : tf_cuda_device_count() > 0
                      ? " (auto: the CUDA device cannot run this build's kernels; `tumorfield "
                        "info` says why)"
                  : tf_cuda_built() ? " (auto: no CUDA device found)"
                                    : " (auto: this build has no CUDA backend)";
        printf("backend: %s%s\n", tf_solver_description(r->solver), why);
        printf("run: %lld steps of %g min (%s), grid %lld x %lld x %lld at %g um\n", r->nsteps,
               s->dt, s->scheme == TF_SCHEME_LOD ? "lod" : "explicit", (long long)s->n[0],
               (long long)s->n[1], (long long)s->n[2], s->spacing);
        tf_run_print_notes(s, "note: ");
        fflush(stdout);
    }
    TF_TRY(tf_solver_set_state(r->solver, r->set[0], r->vessel));

    /* NetCDF output is collective (one file from all ranks); the time series is rank 0's. The
     * writer thread is used by one process only: with MPI only the main thread may call it. */
    const double t = time_of(r, r->step);
    const int threaded = r->par.size == 1;
    if (r->restart) {
        /* Both files checked before either changes: every record and row due before the
         * checkpoint's step must be there (a file of another run was refused at the start). */
        const double rec_due = due_before(r, s->interval);
        const double row_due = due_before(r, s->series_interval);
        TF_TRY(tf_par_agree(&r->par, root ? tf_series_check_restart(r->csv_path, t, row_due)
                                          : TF_OK));
        TF_TRY(tf_ncout_reopen(&r->nc, r->nc_path, s, &r->g, &r->par, t, rec_due));
        TF_TRY(tf_ncout_set_scenario(r->nc, r->effective));
        r->outputs_begun = 1;
    } else {
        /* An earlier run's checkpoint goes with its files: a restart from it would continue
         * these new files from another run's state. */
        tf_status st_chk = TF_OK;
        const int old_files = access(r->nc_path, F_OK) == 0,
                  old_chk = access(r->chk_path, F_OK) == 0;
        /* Removed once the new output exists: a run that cannot create it leaves the earlier
         * run's files as they were (its summary too: nothing of this run exists). */
        TF_TRY(tf_ncout_create(&r->nc, r->nc_path, s, &r->g, &r->par, r->effective, r->vessel));
        r->outputs_begun = 1;
        if (root && old_chk && unlink(r->chk_path) != 0 && errno != ENOENT)
            st_chk = TF_ERROR(TF_ERR_IO, "cannot remove the earlier run's checkpoint '%s': %s",
                              r->chk_path, strerror(errno));
        TF_TRY(tf_par_agree(&r->par, st_chk));
        if (root && !r->o->quiet && (old_files || old_chk)) {
            printf("note: replaced the files of an earlier run '%s' in '%s'%s (a new run of the "
                   "same name starts them afresh; --restart continues them)\n",
                   s->name, s->dir, old_chk ? ", its checkpoint removed" : "");
            fflush(stdout);
        } else if (root && old_chk) {
            /* Also with --quiet (sweeps): removing a file is said, on stderr. */
            fprintf(stderr, "tumorfield: note: the checkpoint of an earlier run '%s' in '%s' was "
                            "removed with its files (a new run of the same name starts afresh)\n",
                    s->name, s->dir);
        }
    }
    TF_TRY(tf_par_agree(&r->par, root ? tf_series_open(&r->series, r->csv_path,
                                                       r->restart != NULL, t)
                                      : TF_OK));
    TF_TRY(tf_writer_start(&r->writer, r->nc, threaded));
    if (!r->restart) {
        TF_TRY(write_record(r));
        TF_TRY(write_row(r));
    } else {
        TF_TRY(restore_missing(r));
        /* The row of the restored state (the time series has it): the summary's final row
         * when no step is left (a finished run resumed again: a requeued job, a sweep
         * resubmitted), which it was null then. */
        TF_TRY(make_row(r));
    }
    return TF_OK;
}

static tf_status loop(run_ctx *r)
{
    const tf_scenario *s = r->s;
    const long long rec_every = tf_run_steps_per(s->interval, s->dt);
    const long long row_every = tf_run_steps_per(s->series_interval, s->dt);
    const long long chk_every = tf_run_steps_per(s->checkpoint_interval, s->dt);
    r->loop_wall0 = tf_wtime();
    r->last_pct = percent_done(r);
    while (r->step < r->nsteps) {
        const double t = time_of(r, r->step);
        const tf_derived q0 = derive_at(r, &r->drv, t);
        const tf_coeffs c0 = tf_coeffs_make(&s->p, &q0);
        tf_drivers next = r->drv;
        tf_drivers_advance(&next, &s->p, &s->exercise, t, s->dt);
        const tf_derived q1 = derive_at(r, &next, time_of(r, r->step + 1));
        const tf_coeffs c1 = tf_coeffs_make(&s->p, &q1);
        TF_TRY(tf_solver_step(r->solver, &c0, &c1));
        r->drv = next;
        r->step += 1;
        r->steps_this_run += 1;

        const int last = r->step == r->nsteps;
        if (due(r->step, row_every) || last)
            TF_TRY(write_row(r));
        if (due(r->step, rec_every) || last)
            TF_TRY(write_record(r));
        if (due(r->step, chk_every) && !last) {
            if (r->good_step != r->step)
                TF_TRY(fetch_checked(r));
            TF_TRY(write_checkpoint(r));
        }
        progress(r, last);
        /* All ranks stop at the same step (a job's signal may reach them one by one), and
         * report the same signal (the largest number any rank got). */
        double sig = (double)stop_signal;
        tf_par_max(&r->par, &sig, 1);
        if (sig > 0.0 && !last) {
            stop_signal = (sig_atomic_t)sig;
            if (r->good_step != r->step)
                TF_TRY(fetch_checked(r));
            return TF_ERR_STOPPED;
        }
    }
    return TF_OK;
}

static void cleanup(run_ctx *r)
{
    (void)tf_writer_stop(r->writer);
    if (r->nc)
        tf_ncout_close(r->nc);
    if (r->series)
        tf_series_close(r->series);
    tf_solver_destroy(r->solver);
    tf_par_free(&r->par);
    for (int k = 0; k < 2; ++k)
        for (int f = 0; f < TF_NFIELDS; ++f)
            free(r->set[k][f]);
    free(r->vessel);
    free(r->effective);
}

tf_status tf_run(const tf_scenario *s, const tf_run_options *o)
{
    run_ctx r;
    memset(&r, 0, sizeof r);
    r.rec_set = -1;
    r.checked_step = -1;
    r.lock_fd = -1;
    r.restart = o->restart;
    r.s = s;
    r.o = o;
    /* The whole job until start_grid decomposes the grid (agreements before it need it). */
    r.par.rank = tf_par_world_rank();
    r.par.size = tf_par_world_size();
    r.wall0 = tf_wtime();
    signal_guard gd;
    signals_install(&gd);

    tf_status st = start(&r);
    if (st == TF_OK)
        st = loop(&r);
    if (r.writer) {
        /* The last record reaches the disk before anything else is written. */
        tf_status ws = tf_writer_wait(r.writer);
        if (ws != TF_OK && (st == TF_OK || st == TF_ERR_STOPPED))
            st = ws;
    }

    /* A start that had nothing to do (its own checkpoint at the end of the run and the files
     * whole: a requeued job or a resubmitted sweep starting a finished run again) leaves the
     * files as they were: the checkpoint is not written again, and the summary stays the one
     * of the start that ran the steps. */
    const int idle = st == TF_OK && r.restart && r.steps_this_run == 0 && !r.restored &&
                     strcmp(r.restart, r.chk_path) == 0;
    if (st == TF_OK || st == TF_ERR_STOPPED) {
        /* The state at r.step passed its check and is on the host. */
        tf_status cs = idle ? TF_OK : write_checkpoint(&r);
        if (cs != TF_OK) {
            st = cs;
        } else if (st == TF_ERR_STOPPED) {
            const int sig = (int)stop_signal;
            /* A run started with --resume (a job script's) continues the same way. */
            char how[TF_OUT_PATH + 64];
            if (r.o->resume)
                snprintf(how, sizeof how, "run the same command again (--resume continues from it)");
            else
                snprintf(how, sizeof how, "restart with --restart %s", r.chk_path);
            TF_ERROR(TF_ERR_STOPPED,
                     "stopped by signal %d (%s) at step %lld (t = %.6g min); checkpoint written "
                     "to '%s': %s",
                     sig, sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT"
                          : sig == SIGUSR1 ? "SIGUSR1" : sig == SIGHUP ? "SIGHUP" : "?",
                     r.step, time_of(&r, r.step), r.chk_path, how);
            /* All ranks stop: one message, MPI_Finalize. The message is the same on every rank
             * (the signal agreed in the loop), and any rank may have got it: not "rank 0:". */
            tf_error_saved e;
            tf_error_save(&e);
            (void)tf_par_agree(&r.par, st);
            tf_error_restore(&e);
        }
    } else if (st == TF_ERR_NUMERIC && r.solver) {
        char msg[2300];
        snprintf(msg, sizeof msg, "%s", tf_error_message());
        tf_error_clear();
        tf_status cs = write_checkpoint(&r);
        TF_ERROR(TF_ERR_NUMERIC,
                 "numerical failure at step %lld (t = %.6g min): %s; the last good state "
                 "(step %lld, t = %.6g min) %s '%s'",
                 r.step, time_of(&r, r.step), msg, r.good_step, time_of(&r, r.good_step),
                 cs == TF_OK ? "is saved in" : "could NOT be saved to", r.chk_path);
    } else if (st == TF_ERR_IO && r.steps_this_run == 0 && r.outputs_begun && !r.restart) {
        if (tf_par_root(&r.par))
            fprintf(stderr, "tumorfield: note: the run failed at its first output, before any "
                            "step: there is nothing to restart from; run it again once the "
                            "output can be written\n");
    } else if (st == TF_ERR_IO && r.steps_this_run > 0) {
        /* The failure's message is the run's; what the saving raises is not. */
        tf_error_saved e;
        tf_error_save(&e);
        tf_error_clear();
        const long long saved = save_after_output_failure(&r);
        char why[512];
        snprintf(why, sizeof why, "%s", tf_error_message());
        tf_error_restore(&e);
        /* On stderr, beside the error (also with --quiet): what to restart from. */
        if (saved >= 0 && tf_par_root(&r.par))
            fprintf(stderr, "tumorfield: note: the state at step %lld (t = %.6g min), whose "
                    "output is the first missing, is saved in '%s': a restart from it completes "
                    "the files\n", saved, time_of(&r, saved), r.chk_path);
        else if (tf_par_root(&r.par)) {
            /* The reason, where it is not the failure's own (a checkpoint that failed too). */
            const int own = !why[0] || strcmp(why, tf_error_message()) == 0;
            fprintf(stderr, "tumorfield: note: the state of the missing output could not be "
                    "saved%s%s%s: '%s' is %s\n", own ? "" : " (", own ? "" : why, own ? "" : ")",
                    r.chk_path,
                    r.chk_written || r.restart ? "the last checkpoint written before, as it was"
                                               : "not there: nothing to restart from; run again "
                                                 "once the output can be written");
        }
    }

    collect_output_time(&r);
    if (r.solver && st != TF_ERR_USAGE) {
        const char *status = st == TF_OK              ? "finished"
                             : st == TF_ERR_STOPPED   ? "stopped"
                             : st == TF_ERR_NUMERIC   ? "numerical_failure"
                             : st == TF_ERR_IO        ? "io_failure"
                                                      : "failed";
        /* A summary that cannot be written fails a run that had not failed otherwise (exit 4);
         * after another failure it is a warning beside that failure's message. */
        if (!r.outputs_begun) {
            /* Nothing of this run exists (its output could not be created or reopened): an
             * earlier run's summary stays with that run's files. */
        } else if (st == TF_OK) {
            const int keep = idle && tf_par_root(&r.par) && access(r.sum_path, F_OK) == 0;
            st = tf_par_agree(&r.par, keep ? TF_OK : write_summary(&r, status));
        } else {
            tf_error_saved e;
            tf_error_save(&e);
            tf_error_clear();
            if (write_summary(&r, status) != TF_OK)
                fprintf(stderr, "tumorfield: warning: %s\n", tf_error_message());
            tf_error_restore(&e);
        }
        if (!o->quiet) {
            print_timers(&r);
            printf("status: %s after %lld steps (t = %.6g min), %.2f s wall\n", status, r.step,
                   time_of(&r, r.step), tf_wtime() - r.wall0);
        }
    }
    cleanup(&r);
    unlock_outputs(&r);
    signals_restore(&gd);
    return st;
}
