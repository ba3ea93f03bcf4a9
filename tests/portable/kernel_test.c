// SPDX-License-Identifier: BSD-2-Clause
/*
 * kernel_test.c - the kernel pmap: pmap_kenter_pa/pmap_kremove, wiring and
 * the statistics, pmap_growkernel seen from every pmap, the bootstrap
 * functions, physical-page helpers, cache modes, pmap_qenter/qremove and
 * pmap_kenter_temporary.
 */
#include "ptest_util.h"

static void
t_kenter(void)
{
	vaddr_t kva = test_kva(4);
	struct vm_page *pg = page_with(0x4242);
	paddr_t pa = ptest_page_pa(pg);
	long res0 = pmap_resident_count(pmap_kernel()), wired0 = pmap_wired_count(pmap_kernel());

	pmap_kenter_pa(kva, pa, VM_PROT_READ, 0);
	pmap_kenter_pa(kva + PAGE_SIZE, pa, VM_PROT_READ | VM_PROT_WRITE, 0);
	pmap_update(pmap_kernel());
	is_u64(peek(kva, 0), 0x4242, "pmap_kenter_pa: the kernel reads the page");
	is_int(ptest_store(kva, 8, 1, 0), PTEST_PF, "read-only kenter mapping: write faults");
	is_int(ptest_store(kva + PAGE_SIZE, 8, 0x4343, 0), PTEST_OK, "read-write: write works");
	is_int(ptest_load(kva, 8, &(uint64_t){ 0 }, PTEST_USER), PTEST_PF,
	    "kernel mappings are not reachable from user mode");
	is_int(ptest_fetch(kva, 0), ptest_have_nx() ? PTEST_PF : PTEST_OK,
	    "no VM_PROT_EXECUTE: no instruction fetch (where the CPU has NX)");
	is_int(pmap_resident_count(pmap_kernel()) - res0, 2, "resident count +2");
	is_int(pmap_wired_count(pmap_kernel()) - wired0, 2, "kenter mappings are wired");
	struct pmap_mapping_info mi;
	ok(pmap_mapping_info(pmap_kernel(), kva, &mi) && mi.mi_kenter && !mi.mi_managed &&
	    mi.mi_wired, "decoded: kenter, unmanaged, wired");

	/* Other CPUs see the same kernel mapping (global). */
	pmap_kremove(kva, 2 * PAGE_SIZE);
	pmap_update(pmap_kernel());
	is_int(ptest_load(kva, 8, &(uint64_t){ 0 }, 0), PTEST_PF, "after pmap_kremove + "
	    "pmap_update the kernel address faults");
	is_int(pmap_resident_count(pmap_kernel()), res0, "resident count restored");
	is_int(pmap_wired_count(pmap_kernel()), wired0, "wired count restored");
	pmap_kremove(kva, 4 * PAGE_SIZE);	/* unmapped pages in range: fine */
	audit_ok("kremove");
	ptest_page_free(pg);
}

static void
t_wired(void)
{
	struct uspace u = uspace_new();
	struct vm_page *pg = page_with(5);
	paddr_t pa = ptest_page_pa(pg);
	pmap_enter(u.us_pm, UVA(0), pa, VM_PROT_READ, PMAP_WIRED);
	pmap_enter(u.us_pm, UVA(1), pa, VM_PROT_READ, 0);
	pmap_enter(u.us_pm, UVA(2), pa, VM_PROT_READ, PMAP_WIRED);
	is_int(pmap_wired_count(u.us_pm), 2, "two wired of three");
	is_int(pmap_resident_count(u.us_pm), 3, "three resident");
	pmap_enter(u.us_pm, UVA(1), pa, VM_PROT_READ, PMAP_WIRED);
	is_int(pmap_wired_count(u.us_pm), 3, "re-entering with PMAP_WIRED wires it");
	pmap_unwire(u.us_pm, UVA(0));
	is_int(pmap_wired_count(u.us_pm), 2, "pmap_unwire");
	pmap_unwire(u.us_pm, UVA(0));
	is_int(pmap_wired_count(u.us_pm), 2, "unwiring an unwired mapping changes nothing");
	ok(pmap_extract(u.us_pm, UVA(0), NULL), "unwired mappings stay mapped");
	pmap_page_protect(pg, VM_PROT_NONE);
	ok(pmap_resident_count(u.us_pm) == 0 && pmap_wired_count(u.us_pm) == 0,
	    "pmap_page_protect(NONE) removes wired mappings too, counts exact");
	check_pmap_ok("wired", u.us_pm);
	uspace_free(&u);
	ptest_page_free(pg);
}

static void
t_growkernel(void)
{
	vaddr_t vs, ve;
	pmap_virtual_space(&vs, &ve);
	ok(vs < ve && (vs & PAGE_MASK) == 0, "pmap_virtual_space: [%#llx, %#llx)",
	    (unsigned long long)vs, (unsigned long long)ve);

	/* A user pmap made before the kernel grows ... */
	struct uspace u = uspace_new();
	vaddr_t before = pmap_growkernel(vs);
	vaddr_t far = before + 64ULL * 1024 * 1024;	/* 64 MiB beyond: new tables */
	vaddr_t after = pmap_growkernel(far + PAGE_SIZE);
	ok(after >= far + PAGE_SIZE, "pmap_growkernel returns the new limit (%#llx)",
	    (unsigned long long)after);
	struct vm_page *pg = page_with(0x6060);
	pmap_kenter_pa(far, ptest_page_pa(pg), VM_PROT_READ, 0);
	pmap_update(pmap_kernel());
	/* ... sees the new kernel page tables, on every CPU. */
	int bad = 0;
	for (int c = 0; c < ptest_ncpus(); c++) {
		struct access a = access_on(c, u.us_l, far, ACC_READ, 0, 0);
		bad += a.a_result != PTEST_OK || a.a_val != 0x6060;
	}
	is_int(bad, 0, "a mapping in newly grown KVA is visible through an older user pmap "
	    "on every CPU");
	pmap_kremove(far, PAGE_SIZE);
	pmap_update(pmap_kernel());
	park_all();
	uspace_free(&u);
	ptest_page_free(pg);
}

/*
 * A kernel image the bootstrap mapped with large pages (i386: 4 MiB PDEs
 * where the image is aligned): the contents through them, and
 * pmap_extract/pmap_mapping_info inside them, offset and all.
 */
static void
t_kimage_large(void)
{
	if (!ptest_kimage_large()) {
		tap_skip(1, "this host maps no kernel image with large pages");
		return;
	}
	int large = 0, bad = 0;
	for (vaddr_t off = 0x400000; off < 0xc00000; off += 0x1ff000) {
		vaddr_t va = PMAP_KIMAGE_BASE + off + 0x123;
		struct pmap_mapping_info mi;
		paddr_t pa = 0;
		if (!pmap_mapping_info(pmap_kernel(), va, &mi) || !pmap_extract(pmap_kernel(), va, &pa)) {
			bad++;
			continue;
		}
		large += mi.mi_size > PAGE_SIZE && mi.mi_wired && !mi.mi_managed;
		bad += pa != off + 0x123 || mi.mi_pa != (off & ~(paddr_t)PAGE_MASK);
		/* Write through the mapping, read the physical page. */
		ptest_phys_write64((off + 0x1000) & ~(paddr_t)PAGE_MASK, 0);
		bad += ptest_store(PMAP_KIMAGE_BASE + ((off + 0x1000) & ~(vaddr_t)PAGE_MASK), 8,
		    0x4d1b0000 + off, 0) != PTEST_OK;
		bad += ptest_phys_read64((off + 0x1000) & ~(paddr_t)PAGE_MASK) != 0x4d1b0000 + off;
	}
	ok(large == 5 && bad == 0, "kernel image in large pages: 5 probes inside them "
	    "translate with their offset and reach their page (large %d, bad %d)", large, bad);
}

#ifdef PMAP_MAP_POOLPAGE
/*
 * pmap_extract and pmap_mapping_info inside large leaves (the direct map
 * uses 2 MiB and, where a whole aligned GiB is RAM, 1 GiB ones): the
 * offset within the leaf must come through, not just within the page.
 */
static void
t_extract_large(void)
{
	static const paddr_t probe[] = {
		0x00a12000, 0x01e7f000, 0x02345000, 0x03fff000,	/* 2 MiB leaves */
		0x40000000 + 0x0abcd000, 0x40000000 + 0x3fe01000,	/* a 1 GiB one */
		0x7ffff000,
	};
	int seen2m = 0, seen1g = 0, bad = 0;
	for (unsigned i = 0; i < sizeof(probe) / sizeof(probe[0]); i++) {
		vaddr_t va = PMAP_MAP_POOLPAGE(probe[i]);
		struct pmap_mapping_info mi;
		if (!pmap_mapping_info(pmap_kernel(), va, &mi) || mi.mi_size == PAGE_SIZE)
			continue;	/* not RAM here, or a 4 KiB edge */
		seen2m += mi.mi_size == (2UL << 20);
		seen1g += mi.mi_size == (1UL << 30);
		paddr_t got = 0;
		bad += !pmap_extract(pmap_kernel(), va + 0x9a8, &got) || got != probe[i] + 0x9a8;
		bad += mi.mi_pa != probe[i];
		uint64_t v;
		bad += ptest_load(va + 0x9a8, 8, &v, 0) != PTEST_OK;
	}
	ok(seen2m > 0 && bad == 0, "pmap_extract and pmap_mapping_info at odd offsets inside "
	    "%d 2 MiB leaves (%d wrong)", seen2m, bad);
	if (seen1g > 0)
		ok(bad == 0, "... and inside %d 1 GiB leaves", seen1g);
	else
		tap_skip(1, "no 1 GiB leaf: too little RAM (run with --mem=2100)");
}
#endif

static void
t_misc(void)
{
	/* pmap_steal_memory: zeroed, mapped, and the bounds move. */
	vaddr_t vs, ve;
	pmap_virtual_space(&vs, &ve);
	vaddr_t s0 = vs + 128 * PAGE_SIZE, s = s0, e = ve;
	vaddr_t got = pmap_steal_memory(3 * PAGE_SIZE - 100, &s, &e);
	ok(got == s0 && s == s0 + 3 * PAGE_SIZE, "pmap_steal_memory rounds to pages and "
	    "moves *vstartp");
	ok(peek(got, 0) == 0 && peek(got + 2 * PAGE_SIZE + 8, 0) == 0, "stolen memory is zeroed");
	is_int(ptest_store(got + PAGE_SIZE, 8, 3, 0), PTEST_OK, "and writable");

	/* Physical page helpers. */
	struct vm_page *a = page_with(0x1234), *b = page_with(0);
	pmap_copy_page(ptest_page_pa(a), ptest_page_pa(b));
	is_u64(ptest_phys_read64(ptest_page_pa(b)), 0x1234, "pmap_copy_page copies");
	pmap_zero_page(ptest_page_pa(a));
	is_u64(ptest_phys_read64(ptest_page_pa(a)), 0, "pmap_zero_page zeroes");
#ifdef PMAP_MAP_POOLPAGE
	vaddr_t pool = PMAP_MAP_POOLPAGE(ptest_page_pa(b));
	is_u64(peek(pool, 0), 0x1234, "PMAP_MAP_POOLPAGE: a kernel address of the page");
	is_u64(PMAP_UNMAP_POOLPAGE(pool), ptest_page_pa(b), "PMAP_UNMAP_POOLPAGE inverts it");
	paddr_t epa;
	ok(pmap_extract(pmap_kernel(), pool + 8, &epa) && epa == ptest_page_pa(b) + 8,
	    "pmap_extract works on direct-map addresses");
	t_extract_large();
#else
	tap_diag("no direct map on this machine: PMAP_MAP_POOLPAGE is not defined");
#endif
	t_kimage_large();
	is_u64(pmap_phys_address(0x1234), 0x1234000, "pmap_phys_address: page frame cookie");
	vaddr_t hint = 0x5000;
	PMAP_PREFER(0, &hint, PAGE_SIZE, 0);
	is_u64(hint, 0x5000, "PMAP_PREFER: no cache aliasing on x86, address unchanged");

	/* Reference counting. */
	pmap_t pm = pmap_create();
	pmap_reference(pm);
	pmap_destroy(pm);
	pmap_enter(pm, UVA(0), ptest_page_pa(a), VM_PROT_READ, 0);
	ok(pmap_extract(pm, UVA(0), NULL), "pmap_destroy with references left keeps the pmap");
	pmap_t child = pmap_create();
	pmap_fork(pm, child);
	pmap_copy(child, pm, UVA(0), PAGE_SIZE, UVA(0));
	struct pmap_mapping_info mi;
	ok(!pmap_mapping_info(child, UVA(0), &mi) || (mi.mi_pa == ptest_page_pa(a) &&
	    !(mi.mi_prot & VM_PROT_WRITE) && !mi.mi_wired), "pmap_copy is advisory: "
	    "what it copies is the same page, read-only (copy_test has the details)");
	pmap_remove(child, UVA(0), UVA(1));
	pmap_update(child);
	pmap_remove(pm, UVA(0), UVA(1));
	pmap_update(pm);
	pmap_destroy(pm);
	pmap_destroy(child);
	struct pmap_counters c;
	pmap_get_counters(&c);
	is_int(c.pc_pmaps, 1, "every pmap destroyed but the kernel's");
	ptest_page_free(a);
	ptest_page_free(b);
}

static void
t_cache_modes(void)
{
	struct uspace u = uspace_new();
	paddr_t dev = ptest_device_pa();
	static const u_int modes[] = { 0, PMAP_WRITE_BACK, PMAP_NOCACHE, PMAP_WRITE_COMBINE,
		PMAP_NOCACHE_OVR };
	/* Without a PAT there is no write combining: UC- is the closest. */
	const u_int wc = ptest_have_pat() ? PMAP_WRITE_COMBINE : PMAP_NOCACHE_OVR;
	const u_int want[] = { 0, 0, PMAP_NOCACHE, wc, PMAP_NOCACHE_OVR };
	int bad = 0;
	for (int i = 0; i < 5; i++) {
		pmap_enter(u.us_pm, UVA(i), dev, VM_PROT_READ, modes[i]);
		struct pmap_mapping_info mi;
		bad += !pmap_mapping_info(u.us_pm, UVA(i), &mi) || mi.mi_cache != want[i];
	}
	is_int(bad, 0, "cache modes: WB default, PMAP_WRITE_BACK, PMAP_NOCACHE (UC), "
	    "PMAP_WRITE_COMBINE (WC), PMAP_NOCACHE_OVR (UC-)");
	/* What the MMU makes of them, through the PAT the library programmed. */
	const int mt[] = { 6, 6, 0, ptest_have_pat() ? 1 : 7, 7 };	/* WB WB UC WC UC- */
	ptest_switch(u.us_l);
	if (ptest_memtype(UVA(0)) < 0) {
		tap_skip(1, "this machine cannot report memory types");
	} else {
		int wrong = 0;
		for (int i = 0; i < 5; i++)
			wrong += ptest_memtype(UVA(i)) != mt[i];
		is_int(wrong, 0, "the MMU applies WB, WB, UC, WC, UC- to those mappings");
	}
	ptest_switch(NULL);
	vaddr_t kva = test_kva(1);
	pmap_kenter_pa(kva, dev, VM_PROT_READ, PMAP_NOCACHE);
	struct pmap_mapping_info mi;
	ok(pmap_mapping_info(pmap_kernel(), kva, &mi) && mi.mi_cache == PMAP_NOCACHE,
	    "pmap_kenter_pa honours PMAP_NOCACHE");
	pmap_kremove(kva, PAGE_SIZE);
	pmap_update(pmap_kernel());
	uspace_free(&u);
}

static void
t_qenter(void)
{
	vaddr_t kva = test_kva(4);
	struct vm_page *pgs[3];
	for (int i = 0; i < 3; i++)
		pgs[i] = page_with(0x100 + (uint64_t)i);
	pmap_qenter(kva, pgs, 3);
	int bad = 0;
	for (int i = 0; i < 3; i++)
		bad += peek(kva + (vaddr_t)i * PAGE_SIZE, 0) != 0x100 + (uint64_t)i;
	is_int(bad, 0, "pmap_qenter maps the pages in order");
	struct vm_page *swapped[1] = { pgs[2] };
	pmap_qenter(kva, swapped, 1);	/* overwrite, no pmap_update */
	is_u64(peek(kva, 0), 0x102, "pmap_qenter over a qenter mapping replaces it at once");
	pmap_qremove(kva, 3);
	is_int(ptest_load(kva + PAGE_SIZE, 8, &(uint64_t){ 0 }, 0), PTEST_PF,
	    "pmap_qremove takes effect at once");
	audit_ok("qremove");

	void *t = pmap_kenter_temporary(ptest_page_pa(pgs[1]), 2);
	is_u64(peek((vaddr_t)t + 2 * PAGE_SIZE, 0), 0x101,
	    "pmap_kenter_temporary(pa, 2): page at the window base + 2 pages");
	/* The window keeps its last mapping (crash-dump use) until the page
	 * goes: pmap_page_protect(NONE) empties it, on every CPU. */
	ok(pmap_extract(pmap_kernel(), (vaddr_t)t + 2 * PAGE_SIZE, NULL),
	    "the window keeps mapping the page");
	pmap_page_protect(pgs[1], VM_PROT_NONE);
	ok(!pmap_extract(pmap_kernel(), (vaddr_t)t + 2 * PAGE_SIZE, NULL) &&
	    ptest_load((vaddr_t)t + 2 * PAGE_SIZE, 8, &(uint64_t){ 0 }, 0) == PTEST_PF,
	    "pmap_page_protect(NONE) of the page takes it out of the window");
	pmap_kenter_temporary(ptest_page_pa(pgs[2]), 3);
	pmap_kenter_temporary(ptest_device_pa(), 3);	/* moved on: pgs[2] no longer there */
	pmap_page_protect(pgs[2], VM_PROT_NONE);
	ok(pmap_extract(pmap_kernel(), (vaddr_t)t + 3 * PAGE_SIZE, NULL),
	    "a window that has moved on to another page is left alone");
	audit_ok("kenter_temporary windows");
	for (int i = 0; i < 3; i++)
		ptest_page_free(pgs[i]);
}

PTEST_SUITE(kernel)
{
	t_kenter();
	t_wired();
	t_growkernel();
	t_misc();
	t_cache_modes();
	t_qenter();
}
