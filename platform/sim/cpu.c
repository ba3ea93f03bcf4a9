// SPDX-License-Identifier: BSD-2-Clause
/*
 * cpu.c - simulated CPUs: host threads, their work queues, interrupts.
 *
 * A CPU thread loops: take pending interrupts, run the next queued function,
 * or block on its condition variable.  Interrupts (IPIs) are a bit per
 * vector in c_ipi_pending, posted by any thread with an atomic OR followed
 * by a signal of the target's condition variable under its lock, so an idle
 * or blocked CPU notices them at once and a running one at its next access
 * boundary (sim_poll() in the MMU), spin (sim_cpu_relax()) or wait
 * (sim_cpu_wait()).
 *
 * Taking an interrupt only at those points is exact, not an approximation:
 * everything an IPI handler does (TLB invalidation) is observable only
 * through this CPU's own accesses, and every access takes pending
 * interrupts first.
 *
 * A critical section (sim_intr_disable) holds interrupts back, as CLI does;
 * the outermost sim_intr_restore() takes what arrived meanwhile.  A CPU
 * waiting in sim_cpu_wait() keeps taking its interrupts, so two CPUs that
 * wait for each other's acknowledgement cannot deadlock.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim_internal.h"

__thread struct sim_cpu *sim_self;
/* Non-CPU threads see a word that is always zero. */
static atomic_uint no_point;
__thread atomic_uint *sim_point_word = &no_point;
bool sim_points_all;

/* Non-CPU threads waiting for work to finish. */
static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;

static void
cpu_signal(struct sim_cpu *c)
{
	pthread_mutex_lock(&c->c_lock);
	pthread_cond_broadcast(&c->c_cv);
	pthread_mutex_unlock(&c->c_lock);
}

void
sim_take_interrupts(struct sim_cpu *c)
{
	unsigned bits;
	c->c_in_intr = true;
	while ((bits = atomic_exchange_explicit(&c->c_ipi_pending, 0,
	    memory_order_acq_rel)) != 0) {
		for (int v = 0; v < SIM_NVECTORS; v++) {
			if ((bits & (1u << v)) == 0)
				continue;
			STAT_INC(c, ipis_taken);
			if (v == SIM_VEC_SIGNAL)
				atomic_store(&c->c_signal, true);
			sim_intr_handler_t h = sim_m.m_handlers[v];
			if (h != NULL)
				h(v);
		}
	}
	c->c_in_intr = false;
}

static void
work_finish(struct sim_cpu *c, struct sim_work *w)
{
	int waiter = w->w_waiter;
	bool heap = w->w_heap;
	pthread_mutex_lock(&c->c_lock);
	c->c_work_done++;
	pthread_mutex_unlock(&c->c_lock);
	if (heap) {
		free(w);
	} else {
		/* After this store the waiter may return and free w. */
		atomic_store_explicit(&w->w_done, true, memory_order_release);
	}
	if (waiter >= 0) {
		sim_cpu_kick(1ULL << waiter);
	} else {
		pthread_mutex_lock(&done_lock);
		pthread_cond_broadcast(&done_cv);
		pthread_mutex_unlock(&done_lock);
	}
}

/* The CPU loop under the deterministic scheduler: the same, but the CPU
 * runs only while it holds the token, and idles through sched.c. */
static void
cpu_main_det(struct sim_cpu *c)
{
	sim_sched_idle(c, 0);
	for (;;) {
		uint64_t seen = sim_sched_wakes(c);
		pthread_mutex_lock(&c->c_lock);
		bool intr = atomic_load(&c->c_ipi_pending) != 0 && c->c_intr_off == 0;
		struct sim_work *w = intr ? NULL : c->c_work_head;
		if (w != NULL) {
			c->c_work_head = w->w_next;
			if (c->c_work_head == NULL)
				c->c_work_tail = NULL;
		}
		bool stop = !intr && w == NULL && c->c_stop;
		pthread_mutex_unlock(&c->c_lock);
		if (intr) {
			sim_take_interrupts(c);
		} else if (w != NULL) {
			w->w_fn(w->w_arg);
			work_finish(c, w);
		} else if (stop) {
			sim_sched_exit(c);
			return;
		} else {
			sim_sched_idle(c, seen);
		}
	}
}

static void *
cpu_main(void *arg)
{
	struct sim_cpu *c = arg;
	sim_self = c;
	sim_point_word = &c->c_ipi_pending;
	if (sim_det) {
		cpu_main_det(c);
		return NULL;
	}
	pthread_mutex_lock(&c->c_lock);
	for (;;) {
		if (atomic_load(&c->c_ipi_pending) != 0 && c->c_intr_off == 0) {
			pthread_mutex_unlock(&c->c_lock);
			sim_take_interrupts(c);
			pthread_mutex_lock(&c->c_lock);
			continue;
		}
		struct sim_work *w = c->c_work_head;
		if (w != NULL) {
			c->c_work_head = w->w_next;
			if (c->c_work_head == NULL)
				c->c_work_tail = NULL;
			pthread_mutex_unlock(&c->c_lock);
			w->w_fn(w->w_arg);
			work_finish(c, w);
			pthread_mutex_lock(&c->c_lock);
			continue;
		}
		if (c->c_stop)
			break;
		pthread_cond_wait(&c->c_cv, &c->c_lock);
	}
	pthread_mutex_unlock(&c->c_lock);
	return NULL;
}

void
sim_cpus_init(void)
{
	int n = sim_m.m_cfg.ncpus;
	if (n == 0)
		n = 4;
	if (n < 1 || n > SIM_MAXCPUS)
		sim_fatal("%d CPUs requested, 1..%d supported", n, SIM_MAXCPUS);
	sim_m.m_ncpus = n;
	sim_m.m_cpus = calloc((size_t)n, sizeof(struct sim_cpu));
	if (sim_m.m_cpus == NULL)
		sim_fatal("out of host memory for CPUs");
	for (int i = 0; i < n; i++) {
		struct sim_cpu *c = &sim_m.m_cpus[i];
		c->c_id = i;
		pthread_mutex_init(&c->c_lock, NULL);
		pthread_cond_init(&c->c_cv, NULL);
		sim_mmu_cpu_init(c);
	}
	for (int i = 0; i < n; i++) {
		struct sim_cpu *c = &sim_m.m_cpus[i];
		if (pthread_create(&c->c_thread, NULL, cpu_main, c) != 0)
			sim_fatal("cannot start the thread of CPU %d", i);
	}
}

void
sim_cpus_fini(void)
{
	for (int i = 0; i < sim_m.m_ncpus; i++) {
		struct sim_cpu *c = &sim_m.m_cpus[i];
		pthread_mutex_lock(&c->c_lock);
		c->c_stop = true;
		pthread_cond_broadcast(&c->c_cv);
		pthread_mutex_unlock(&c->c_lock);
		if (sim_det)
			sim_sched_wake(c);
	}
	for (int i = 0; i < sim_m.m_ncpus; i++) {
		struct sim_cpu *c = &sim_m.m_cpus[i];
		pthread_join(c->c_thread, NULL);
		sim_mmu_cpu_fini(c);
		pthread_mutex_destroy(&c->c_lock);
		pthread_cond_destroy(&c->c_cv);
	}
	free(sim_m.m_cpus);
	sim_m.m_cpus = NULL;
	sim_m.m_ncpus = 0;
}

void
sim_init(const struct sim_config *c)
{
	struct sim_config def;
	if (c == NULL) {
		sim_config_default(&def);
		c = &def;
	}
	memset(sim_m.m_handlers, 0, sizeof(sim_m.m_handlers));
	sim_m.m_free_violation = NULL;
	sim_m.m_dmap_start = sim_m.m_dmap_end = 0;
	sim_m.m_window_owner = NULL;
	sim_phys_init(c);
	sim_sched_init(c, c->ncpus == 0 ? 4 : c->ncpus);
	sim_points_all = c->spec_fill_ppm != 0 || sim_det;
	sim_cpus_init();
}

void
sim_fini(void)
{
	if (sim_self != NULL)
		sim_fatal("sim_fini called on CPU %d", sim_self->c_id);
	sim_cpus_fini();
	sim_phys_fini();
}

int
sim_ncpus(void)
{
	return sim_m.m_ncpus;
}

int
sim_cpu_id(void)
{
	return sim_self != NULL ? sim_self->c_id : -1;
}

void *
sim_percpu(void)
{
	if (sim_self == NULL)
		sim_fatal("sim_percpu: not on a CPU");
	return sim_self->c_percpu;
}

void
sim_percpu_set(void *p)
{
	if (sim_self == NULL)
		sim_fatal("sim_percpu_set: not on a CPU");
	sim_self->c_percpu = p;
}

static struct sim_cpu *
cpu_arg(int cpu, const char *fn)
{
	if (cpu < 0 || cpu >= sim_m.m_ncpus)
		sim_fatal("%s: no CPU %d (machine has %d)", fn, cpu, sim_m.m_ncpus);
	return &sim_m.m_cpus[cpu];
}

static void
enqueue(struct sim_cpu *c, struct sim_work *w)
{
	w->w_next = NULL;
	pthread_mutex_lock(&c->c_lock);
	if (c->c_work_tail != NULL)
		c->c_work_tail->w_next = w;
	else
		c->c_work_head = w;
	c->c_work_tail = w;
	c->c_work_queued++;
	pthread_cond_broadcast(&c->c_cv);
	pthread_mutex_unlock(&c->c_lock);
	if (sim_det)
		sim_sched_wake(c);
}

static bool
work_done_p(void *arg)
{
	struct sim_work *w = arg;
	return atomic_load_explicit(&w->w_done, memory_order_acquire);
}

void
sim_run_on(int cpu, void (*fn)(void *), void *arg)
{
	struct sim_cpu *c = cpu_arg(cpu, "sim_run_on");
	if (sim_self == c) {
		fn(arg);
		return;
	}
	struct sim_work w = {
		.w_fn = fn, .w_arg = arg, .w_heap = false,
		.w_waiter = sim_self != NULL ? sim_self->c_id : -1,
	};
	atomic_init(&w.w_done, false);
	enqueue(c, &w);
	if (sim_self != NULL) {
		sim_cpu_wait(work_done_p, &w);
	} else {
		pthread_mutex_lock(&done_lock);
		while (!work_done_p(&w))
			pthread_cond_wait(&done_cv, &done_lock);
		pthread_mutex_unlock(&done_lock);
	}
}

void
sim_run_async(int cpu, void (*fn)(void *), void *arg)
{
	struct sim_cpu *c = cpu_arg(cpu, "sim_run_async");
	struct sim_work *w = calloc(1, sizeof(*w));
	if (w == NULL)
		sim_fatal("sim_run_async: out of host memory");
	w->w_fn = fn;
	w->w_arg = arg;
	w->w_heap = true;
	w->w_waiter = -1;
	atomic_init(&w->w_done, false);
	enqueue(c, w);
}

struct wait_target {
	struct sim_cpu *wt_cpu;
	uint64_t wt_seq;
};

static bool
queue_drained_p(void *arg)
{
	struct wait_target *t = arg;
	pthread_mutex_lock(&t->wt_cpu->c_lock);
	bool done = t->wt_cpu->c_work_done >= t->wt_seq;
	pthread_mutex_unlock(&t->wt_cpu->c_lock);
	return done;
}

void
sim_wait(int cpu)
{
	struct sim_cpu *c = cpu_arg(cpu, "sim_wait");
	if (sim_self == c)
		sim_fatal("sim_wait: CPU %d waiting for itself", cpu);
	struct wait_target t = { .wt_cpu = c };
	pthread_mutex_lock(&c->c_lock);
	t.wt_seq = c->c_work_queued;
	pthread_mutex_unlock(&c->c_lock);
	if (sim_self != NULL) {
		/* Async work does not kick CPUs; the timed wait bounds latency. */
		sim_cpu_wait(queue_drained_p, &t);
	} else {
		pthread_mutex_lock(&done_lock);
		while (!queue_drained_p(&t)) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&done_cv, &done_lock, &ts);
		}
		pthread_mutex_unlock(&done_lock);
	}
}

void *
sim_percpu_of(int cpu)
{
	return cpu_arg(cpu, "sim_percpu_of")->c_percpu;
}

void
sim_set_intr_handler(int vector, sim_intr_handler_t fn)
{
	if (vector < 0 || vector >= SIM_NVECTORS)
		sim_fatal("sim_set_intr_handler: vector %d out of range", vector);
	sim_m.m_handlers[vector] = fn;
}

void
sim_send_ipi(uint64_t mask, int vector)
{
	if (vector < 0 || vector >= SIM_NVECTORS)
		sim_fatal("sim_send_ipi: vector %d out of range", vector);
	for (int i = 0; i < sim_m.m_ncpus; i++) {
		if ((mask & (1ULL << i)) == 0)
			continue;
		struct sim_cpu *c = &sim_m.m_cpus[i];
		atomic_fetch_or_explicit(&c->c_ipi_pending, 1u << vector,
		    memory_order_release);
		if (sim_det)
			sim_sched_wake(c);
		else if (c != sim_self)
			cpu_signal(c);
	}
	/* An IPI to ourselves is taken at our next interrupt point. */
}

void
sim_intr_disable(void)
{
	struct sim_cpu *c = sim_self;
	if (c == NULL)
		sim_fatal("sim_intr_disable: not on a CPU");
	c->c_intr_off++;
}

void
sim_intr_restore(void)
{
	struct sim_cpu *c = sim_self;
	if (c == NULL || c->c_intr_off <= 0)
		sim_fatal("sim_intr_restore: unbalanced");
	if (--c->c_intr_off == 0)
		sim_poll(c);
}

bool
sim_intr_disabled_p(void)
{
	return sim_self != NULL && (sim_self->c_intr_off > 0 || sim_self->c_in_intr);
}

void
sim_cpu_relax(void)
{
	struct sim_cpu *c = sim_self;
	if (c != NULL)
		sim_poll(c);
	if (sim_det && c != NULL)
		sim_sched_spin(c);	/* let another CPU run instead */
	else
		sched_yield();
}

void
sim_cpu_point(void)
{
	struct sim_cpu *c = sim_self;
	if (c != NULL)
		sim_point(c);
}

bool
sim_ipi_pending(int cpu)
{
	return atomic_load(&cpu_arg(cpu, "sim_ipi_pending")->c_ipi_pending) != 0;
}

void
sim_cpu_wait(bool (*pred)(void *), void *arg)
{
	struct sim_cpu *c = sim_self;
	if (c == NULL)
		sim_fatal("sim_cpu_wait: not on a CPU");
	for (;;) {
		sim_poll(c);
		if (pred(arg))
			return;
		if (sim_det) {
			sim_sched_spin(c);	/* those who can make pred true run */
			continue;
		}
		pthread_mutex_lock(&c->c_lock);
		unsigned kick = atomic_load(&c->c_kick);
		bool intr = atomic_load(&c->c_ipi_pending) != 0 && c->c_intr_off == 0 &&
		    !c->c_in_intr;
		if (!intr && !pred(arg) && kick == atomic_load(&c->c_kick)) {
			/*
			 * Every event that can make pred true either kicks
			 * us or posts an interrupt, both under c_lock; the
			 * timeout only covers async-queue waits.
			 */
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&c->c_cv, &c->c_lock, &ts);
		}
		pthread_mutex_unlock(&c->c_lock);
	}
}

void
sim_cpu_kick(uint64_t mask)
{
	for (int i = 0; i < sim_m.m_ncpus; i++) {
		if ((mask & (1ULL << i)) == 0)
			continue;
		struct sim_cpu *c = &sim_m.m_cpus[i];
		pthread_mutex_lock(&c->c_lock);
		atomic_fetch_add(&c->c_kick, 1);
		pthread_cond_broadcast(&c->c_cv);
		pthread_mutex_unlock(&c->c_lock);
		if (sim_det)
			sim_sched_wake(c);
	}
}

bool
sim_signal_pending(bool consume)
{
	struct sim_cpu *c = sim_self;
	if (c == NULL)
		return false;
	sim_poll(c);
	if (consume)
		return atomic_exchange(&c->c_signal, false);
	return atomic_load(&c->c_signal);
}
