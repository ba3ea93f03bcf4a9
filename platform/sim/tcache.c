// SPDX-License-Identifier: BSD-2-Clause
/*
 * tcache.c - the hash table behind each simulated CPU's TLB and
 * paging-structure caches.
 *
 * Linear probing with backward-shift deletion: no tombstones, so a lookup
 * stops at the first empty slot and the table never degrades after many
 * invalidations.  The table doubles at 50% load; in strict mode it has no
 * capacity limit at all (that is the point: nothing is silently evicted).
 */
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

#define TC_MIN_SLOTS 256

static size_t
tc_hash(uint64_t key)
{
	key ^= key >> 29;
	key *= 0xbf58476d1ce4e5b9ULL;
	key ^= key >> 32;
	return (size_t)key;
}

void
tc_init(struct tcache *tc)
{
	memset(tc, 0, sizeof(*tc));
	tc->tc_slots = calloc(TC_MIN_SLOTS, sizeof(struct tc_entry));
	if (tc->tc_slots == NULL)
		sim_fatal("tc_init: out of host memory");
	tc->tc_mask = TC_MIN_SLOTS - 1;
}

void
tc_fini(struct tcache *tc)
{
	free(tc->tc_slots);
	memset(tc, 0, sizeof(*tc));
}

bool
tc_full_p(const struct tcache *tc)
{
	return 2 * (tc->tc_count + 1) > tc->tc_mask + 1;
}

struct tc_entry *
tc_lookup(struct tcache *tc, uint64_t key)
{
	size_t i = tc_hash(key) & tc->tc_mask;
	for (;;) {
		struct tc_entry *e = &tc->tc_slots[i];
		if (e->te_key == key)
			return e;
		if (e->te_key == 0)
			return NULL;
		i = (i + 1) & tc->tc_mask;
	}
}

static void
tc_place(struct tcache *tc, const struct tc_entry *e)
{
	size_t i = tc_hash(e->te_key) & tc->tc_mask;
	while (tc->tc_slots[i].te_key != 0)
		i = (i + 1) & tc->tc_mask;
	tc->tc_slots[i] = *e;
}

static void
tc_grow(struct tcache *tc)
{
	struct tc_entry *old = tc->tc_slots;
	size_t n = tc->tc_mask + 1;
	tc->tc_slots = calloc(2 * n, sizeof(struct tc_entry));
	if (tc->tc_slots == NULL)
		sim_fatal("tc_grow: out of host memory (%zu slots)", 2 * n);
	tc->tc_mask = 2 * n - 1;
	for (size_t i = 0; i < n; i++)
		if (old[i].te_key != 0)
			tc_place(tc, &old[i]);
	free(old);
}

struct tc_entry *
tc_insert(struct tcache *tc, const struct tc_entry *e)
{
	struct tc_entry *cur = tc_lookup(tc, e->te_key);
	if (cur != NULL) {
		*cur = *e;
		return cur;
	}
	if (tc_full_p(tc))
		tc_grow(tc);
	tc_place(tc, e);
	tc->tc_count++;
	tc->tc_kind_count[e->te_kind & 7]++;
	return tc_lookup(tc, e->te_key);
}

/* Delete slot i and shift later members of its cluster back. */
static void
tc_delete_slot(struct tcache *tc, size_t i)
{
	tc->tc_count--;
	tc->tc_kind_count[tc->tc_slots[i].te_kind & 7]--;
	size_t j = i;
	for (;;) {
		tc->tc_slots[i].te_key = 0;
		for (;;) {
			j = (j + 1) & tc->tc_mask;
			if (tc->tc_slots[j].te_key == 0)
				return;
			size_t home = tc_hash(tc->tc_slots[j].te_key) & tc->tc_mask;
			/* Move j back to i unless its home lies in (i, j]. */
			bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
			if (!stays)
				break;
		}
		tc->tc_slots[i] = tc->tc_slots[j];
		i = j;
	}
}

void
tc_remove(struct tcache *tc, uint64_t key)
{
	size_t i = tc_hash(key) & tc->tc_mask;
	for (;;) {
		struct tc_entry *e = &tc->tc_slots[i];
		if (e->te_key == key) {
			tc_delete_slot(tc, i);
			return;
		}
		if (e->te_key == 0)
			return;
		i = (i + 1) & tc->tc_mask;
	}
}

size_t
tc_remove_if(struct tcache *tc, bool (*pred)(const struct tc_entry *, void *), void *arg)
{
	size_t removed = 0;
	if (tc->tc_count == 0)
		return 0;
	/*
	 * Backward shift can move a not-yet-visited entry into slot i, or
	 * wrap an entry from the start of the table to its end; so re-test
	 * slot i after a deletion, and make a second pass for the wrap.
	 */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i <= tc->tc_mask; i++) {
			while (tc->tc_slots[i].te_key != 0 && pred(&tc->tc_slots[i], arg)) {
				tc_delete_slot(tc, i);
				removed++;
			}
		}
	}
	return removed;
}

void
tc_evict_random(struct tcache *tc, uint64_t rnd)
{
	if (tc->tc_count == 0)
		return;
	size_t i = (size_t)rnd & tc->tc_mask;
	while (tc->tc_slots[i].te_key == 0)
		i = (i + 1) & tc->tc_mask;
	tc_delete_slot(tc, i);
}

void
tc_foreach(struct tcache *tc, void (*fn)(const struct tc_entry *, void *), void *arg)
{
	for (size_t i = 0; i <= tc->tc_mask; i++)
		if (tc->tc_slots[i].te_key != 0)
			fn(&tc->tc_slots[i], arg);
}
