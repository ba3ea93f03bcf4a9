// SPDX-License-Identifier: BSD-2-Clause
/*
 * sched.c - the deterministic scheduler: simulated CPUs run one at a time
 * and switch only at points, chosen by a seeded strategy, so that an
 * interleaving that fails replays exactly from its seed.
 *
 * Why.  The bugs that matter in a pmap live in windows a few instructions
 * wide, which threads on a 2-core host almost never hit.  Here exactly one
 * CPU - the one holding the token - runs at a time; every other CPU thread
 * sleeps on s_cv.  The running CPU gives the token away only at points:
 *
 *   - interrupt points: every host hook the library calls (sim_cpu_point)
 *     and every access through the MMU;
 *   - spins: sim_cpu_relax, sim_cpu_wait with its condition false (the
 *     library's lock and acknowledgement loops end up here) - the spinner
 *     always yields if another CPU can run;
 *   - going idle: no work and no interrupt.
 *
 * At an interrupt point the strategy decides whether to switch, and to
 * whom, among the CPUs that can run (READY: has work, a pending interrupt,
 * or is spinning; the running one is READY too):
 *
 *   random walk  switch with probability switch_ppm / 1e6 to a uniformly
 *                chosen READY CPU;
 *   PCT          probabilistic concurrency testing (Burckhardt et al.,
 *                ASPLOS 2010): every CPU gets a random distinct priority,
 *                the highest READY one runs, and at depth-1 change points
 *                drawn uniformly from the first `horizon` points the
 *                running CPU drops below all others.  A spinning CPU drops
 *                to the bottom too (else it would spin forever).  A bug of
 *                depth d is found with probability >= 1/(n * k^(d-1)).
 *
 * Every decision comes from one generator seeded by sched_seed, taken
 * only by the token holder, and every event that makes a CPU READY comes
 * from the token holder (an IPI, queued work) - or from the main thread,
 * which only starts the first function and waits.  So the whole run is a
 * function of the seed.  When no CPU can run and some wait for a
 * condition, the machine is stuck: reported as a deadlock with each CPU's
 * state, instead of hanging.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim_internal.h"

enum { S_IDLE = 0, S_READY = 1 };

static struct {
	pthread_mutex_t s_lock;
	pthread_cond_t s_cv;
	int s_owner;			/* CPU holding the token, -1: none */
	uint8_t s_state[SIM_MAXCPUS];	/* S_IDLE / S_READY (s_lock) */
	bool s_spinning[SIM_MAXCPUS];	/* READY only to re-check a condition */
	uint64_t s_wakes[SIM_MAXCPUS];	/* events that may end an idle wait */
	uint64_t s_rng;			/* the token holder's */
	int s_prio[SIM_MAXCPUS];	/* PCT priorities, higher runs */
	int s_low;			/* lowest priority handed out so far */
	uint64_t s_change[SIM_MAXCPUS];	/* PCT change points (sorted) */
	int s_nchange, s_next_change;
	uint64_t s_points, s_switches;
	uint32_t s_switch_ppm;		/* random walk */
	unsigned s_lonely;		/* spins in a row with no one else to run */
	bool s_on;
} S = { .s_lock = PTHREAD_MUTEX_INITIALIZER, .s_cv = PTHREAD_COND_INITIALIZER };

bool sim_det;
static FILE *trace;		/* SIM_SCHED_TRACE: every switch, for diffing runs */

static uint64_t
rnd(void)
{
	return sim_rng_next(&S.s_rng);
}

void
sim_sched_init(const struct sim_config *c, int ncpus)
{
	S.s_on = c->sched != SIM_SCHED_OFF;
	sim_det = S.s_on;
	S.s_owner = -1;
	S.s_rng = c->sched_seed * 0x9e3779b97f4a7c15ULL + 0x5eed;
	S.s_points = S.s_switches = 0;
	S.s_switch_ppm = c->sched_switch_ppm != 0 ? c->sched_switch_ppm : 20000;
	if (getenv("SIM_SCHED_TRACE") != NULL && trace == NULL)
		trace = fopen(getenv("SIM_SCHED_TRACE"), "w");
	memset(S.s_state, S_IDLE, sizeof(S.s_state));
	memset(S.s_spinning, 0, sizeof(S.s_spinning));
	memset(S.s_wakes, 0, sizeof(S.s_wakes));
	if (!S.s_on)
		return;
	/* PCT: a random permutation of priorities ncpus .. 1... */
	for (int i = 0; i < ncpus; i++)
		S.s_prio[i] = i + 1;
	for (int i = ncpus - 1; i > 0; i--) {
		int j = (int)(rnd() % (uint64_t)(i + 1));
		int t = S.s_prio[i];
		S.s_prio[i] = S.s_prio[j];
		S.s_prio[j] = t;
	}
	S.s_low = 0;
	/* ... and depth-1 change points in [1, horizon], sorted. */
	int d = c->sched_pct_depth > 0 ? c->sched_pct_depth : 3;
	uint64_t h = c->sched_pct_horizon > 0 ? c->sched_pct_horizon : 100000;
	S.s_nchange = d - 1 < SIM_MAXCPUS ? d - 1 : SIM_MAXCPUS;
	for (int i = 0; i < S.s_nchange; i++)
		S.s_change[i] = 1 + rnd() % h;
	for (int i = 1; i < S.s_nchange; i++)
		for (int j = i; j > 0 && S.s_change[j - 1] > S.s_change[j]; j--) {
			uint64_t t = S.s_change[j];
			S.s_change[j] = S.s_change[j - 1];
			S.s_change[j - 1] = t;
		}
	S.s_next_change = 0;
}

struct sim_sched_stats
sim_sched_stats(void)
{
	pthread_mutex_lock(&S.s_lock);
	struct sim_sched_stats st = { S.s_points, S.s_switches };
	pthread_mutex_unlock(&S.s_lock);
	return st;
}

/* The CPU to run next, among the READY ones (self included when it is
 * READY).  s_lock held. */
static int
pick(int self, bool self_spins)
{
	int n = sim_m.m_ncpus;
	enum sim_sched_mode mode = sim_m.m_cfg.sched;
	if (mode == SIM_SCHED_PCT) {
		if (self_spins && self >= 0)
			S.s_prio[self] = --S.s_low;	/* a spinner yields to all */
		int best = -1;
		for (int i = 0; i < n; i++)
			if (S.s_state[i] == S_READY && (best < 0 || S.s_prio[i] > S.s_prio[best]))
				best = i;
		return best;
	}
	/* Random walk: uniformly among the READY CPUs (a spinner among the
	 * others if there are any). */
	int cand[SIM_MAXCPUS], k = 0;
	for (int i = 0; i < n; i++)
		if (S.s_state[i] == S_READY && !(self_spins && i == self))
			cand[k++] = i;
	if (k == 0)
		return self_spins && self >= 0 && S.s_state[self] == S_READY ? self : -1;
	/* No draw for a forced choice: whether the main thread's wake came
	 * before or after an idle hand-off must not shift the stream. */
	return k == 1 ? cand[0] : cand[rnd() % (uint64_t)k];
}

/* Give the token to next and wait until it comes back.  s_lock held. */
static void
hand_over(struct sim_cpu *c, int next)
{
	if (next == c->c_id)
		return;
	if (trace != NULL)
		fprintf(trace, "%llu %d>%d\n", (unsigned long long)S.s_points, c->c_id, next);
	S.s_owner = next;
	S.s_switches++;
	pthread_cond_broadcast(&S.s_cv);
	while (S.s_owner != c->c_id) {
		if (S.s_owner == -1 && S.s_state[c->c_id] == S_READY) {
			S.s_owner = c->c_id;
			break;
		}
		pthread_cond_wait(&S.s_cv, &S.s_lock);
	}
}

/* An interrupt point of the token holder. */
/* Only the token holder runs: anything else is a bug in this file. */
static void
check_owner(struct sim_cpu *c, const char *where)
{
	if (S.s_owner != c->c_id) {
		fprintf(stderr, "deterministic scheduler: cpu %d runs at %s without the "
		    "token (cpu %d holds it)\n", c->c_id, where, S.s_owner);
		abort();
	}
}

void
sim_sched_point(struct sim_cpu *c)
{
	pthread_mutex_lock(&S.s_lock);
	check_owner(c, "an interrupt point");
	S.s_points++;

	int next = c->c_id;
	if (sim_m.m_cfg.sched == SIM_SCHED_PCT) {
		if (S.s_next_change < S.s_nchange &&
		    S.s_points >= S.s_change[S.s_next_change]) {
			S.s_next_change++;
			S.s_prio[c->c_id] = --S.s_low;
		}
		next = pick(c->c_id, false);
	} else if (rnd() % 1000000 < S.s_switch_ppm) {
		next = pick(c->c_id, false);
	}
	if (next >= 0)
		hand_over(c, next);
	pthread_mutex_unlock(&S.s_lock);
}

static void
report_stuck(void)
{
	fflush(stdout);
	fprintf(stderr, "deterministic scheduler: no CPU can run (seed %llu, point "
	    "%llu): deadlock\n", (unsigned long long)sim_m.m_cfg.sched_seed,
	    (unsigned long long)S.s_points);
	for (int i = 0; i < sim_m.m_ncpus; i++)
		fprintf(stderr, "  cpu %d: %s%s, interrupts %s, pending %#x\n", i,
		    S.s_state[i] == S_READY ? "ready" : "idle",
		    S.s_spinning[i] ? " (waiting for a condition)" : "",
		    sim_m.m_cpus[i].c_intr_off > 0 ? "off" : "on",
		    atomic_load(&sim_m.m_cpus[i].c_ipi_pending));
}

/*
 * The token holder spins (its condition is false): let another READY CPU
 * run.  If none can, return so the caller checks its condition again
 * (something may have made it true since it looked, at the points inside
 * its loop).  Many lonely spins in a row mean only the main thread could
 * help; after a while with nothing from it either, the machine is stuck.
 */
void
sim_sched_spin(struct sim_cpu *c)
{
	pthread_mutex_lock(&S.s_lock);
	check_owner(c, "a spin");
	S.s_points++;

	S.s_spinning[c->c_id] = true;
	int next = pick(c->c_id, true);
	if (next >= 0 && next != c->c_id) {
		S.s_lonely = 0;
		hand_over(c, next);
	} else if (++S.s_lonely > 1000) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 10;
		uint64_t w = S.s_wakes[c->c_id];
		while (S.s_wakes[c->c_id] == w) {
			if (pthread_cond_timedwait(&S.s_cv, &S.s_lock, &ts) != 0) {
				report_stuck();
				abort();
			}
		}
		S.s_lonely = 0;
	}
	S.s_spinning[c->c_id] = false;
	pthread_mutex_unlock(&S.s_lock);
}

uint64_t
sim_sched_wakes(struct sim_cpu *c)
{
	pthread_mutex_lock(&S.s_lock);
	uint64_t w = S.s_wakes[c->c_id];
	pthread_mutex_unlock(&S.s_lock);
	return w;
}

/*
 * The token holder has nothing to do (no work, no interrupt since `seen`
 * wakes - read before it looked): pass the token on and sleep until an
 * event, then take the token back.  Also how a CPU thread starts (with
 * seen 0, not holding the token).
 */
void
sim_sched_idle(struct sim_cpu *c, uint64_t seen)
{
	pthread_mutex_lock(&S.s_lock);
	if (S.s_wakes[c->c_id] == seen) {
		S.s_state[c->c_id] = S_IDLE;
		if (S.s_owner == c->c_id) {
			S.s_owner = pick(c->c_id, false);
			pthread_cond_broadcast(&S.s_cv);
		}
		while (S.s_wakes[c->c_id] == seen)
			pthread_cond_wait(&S.s_cv, &S.s_lock);
	}
	S.s_state[c->c_id] = S_READY;
	while (S.s_owner != c->c_id) {
		if (S.s_owner == -1) {
			S.s_owner = c->c_id;
			break;
		}
		pthread_cond_wait(&S.s_cv, &S.s_lock);
	}
	pthread_mutex_unlock(&S.s_lock);
}

/* The token holder's thread ends (the machine stops). */
void
sim_sched_exit(struct sim_cpu *c)
{
	pthread_mutex_lock(&S.s_lock);
	S.s_state[c->c_id] = S_IDLE;
	if (S.s_owner == c->c_id) {
		S.s_owner = pick(c->c_id, false);
		pthread_cond_broadcast(&S.s_cv);
	}
	pthread_mutex_unlock(&S.s_lock);
}

/* Something happened that may let cpu run (work, an interrupt, a kick):
 * any thread. */
void
sim_sched_wake(struct sim_cpu *c)
{
	pthread_mutex_lock(&S.s_lock);
	S.s_wakes[c->c_id]++;
	if (S.s_state[c->c_id] == S_IDLE)
		S.s_state[c->c_id] = S_READY;
	pthread_cond_broadcast(&S.s_cv);
	pthread_mutex_unlock(&S.s_lock);
}

