/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * atomic64.S - 64-bit atomic operations for the 32-bit kernel.
 *
 * GCC compiles an 8-byte __atomic builtin on i386 inline only with the FPU
 * or SSE (an 8-byte load or store); the kernel is built without both
 * (-mno-80387 -mno-sse), so it calls the libatomic entry points instead.
 * These are they, each a LOCK CMPXCHG8B (Pentium and later), which is a
 * full barrier whatever the memory model argument says.  A load is a
 * compare-exchange of 0 with 0, so it needs the page writable (every
 * 8-byte atomic of the library and the platform is on writable memory).
 * cdecl: uint64_t results in %edx:%eax.
 *
 * No flag-setting instruction precedes a CMPXCHG8B in its straight-line
 * run of code (a load clears with MOV, not XOR; the read-modify-write
 * loop jumps to the CMPXCHG8B after its ADD/ADC).  QEMU 7.2's TCG
 * computes the new EFLAGS of a CMPXCHG8B from a lazily-kept flag state
 * that the instructions before it in the same translation block have not
 * written back: with a stale "flags are literal" state and an ADC's
 * operand of 0xffffffff in its place, the CPU's EFLAGS became garbage
 * (TF, VM, IOPL 3) and the kernel triple-faulted on the next exception.
 * A jump ends the translation block, which writes the state back; on
 * hardware it costs nothing.  (QEMU 8.0 generates CMPXCHG8B inline and
 * does not have the bug.)
 */
	.text

/* uint64_t __atomic_load_8(const volatile void *p, int model) */
	.globl __atomic_load_8
__atomic_load_8:
	pushl %ebx
	pushl %esi
	movl 12(%esp), %esi
	movl $0, %eax                   /* MOV, not XOR: see above */
	movl $0, %edx
	movl $0, %ebx
	movl $0, %ecx
	lock cmpxchg8b (%esi)
	popl %esi
	popl %ebx
	ret

/* void __atomic_store_8(volatile void *p, uint64_t v, int model)
 * uint64_t __atomic_exchange_8(volatile void *p, uint64_t v, int model) */
	.globl __atomic_store_8, __atomic_exchange_8
__atomic_store_8:
__atomic_exchange_8:
	pushl %ebx
	pushl %esi
	movl 12(%esp), %esi
	movl 16(%esp), %ebx
	movl 20(%esp), %ecx
	movl (%esi), %eax
	movl 4(%esi), %edx
1:	lock cmpxchg8b (%esi)
	jnz 1b
	popl %esi
	popl %ebx
	ret

/* bool __atomic_compare_exchange_8(volatile void *p, void *expected,
 *     uint64_t desired, int success_model, int failure_model) */
	.globl __atomic_compare_exchange_8
__atomic_compare_exchange_8:
	pushl %ebx
	pushl %esi
	pushl %edi
	movl 16(%esp), %esi
	movl 20(%esp), %edi
	movl 24(%esp), %ebx
	movl 28(%esp), %ecx
	movl (%edi), %eax
	movl 4(%edi), %edx
	lock cmpxchg8b (%esi)
	je 1f
	movl %eax, (%edi)
	movl %edx, 4(%edi)
	xorl %eax, %eax
	jmp 2f
1:	movl $1, %eax
2:	popl %edi
	popl %esi
	popl %ebx
	ret

/*
 * uint64_t __atomic_fetch_OP_8(volatile void *p, uint64_t v, int model)
 * uint64_t __atomic_OP_fetch_8(volatile void *p, uint64_t v, int model)
 * new = old OP v, retried until the compare-exchange succeeds; the first
 * returns old, the second new.
 */
.macro ATOMIC_OP name, oplo, ophi
	.globl __atomic_fetch_\name\()_8, __atomic_\name\()_fetch_8
__atomic_fetch_\name\()_8:
	pushl %ebx
	pushl %esi
	pushl %edi
	xorl %edi, %edi                 /* return old */
	jmp 0f
__atomic_\name\()_fetch_8:
	pushl %ebx
	pushl %esi
	pushl %edi
	movl $1, %edi                   /* return new */
0:	movl 16(%esp), %esi
	movl (%esi), %eax
	movl 4(%esi), %edx
1:	movl %eax, %ebx
	movl %edx, %ecx
	\oplo 20(%esp), %ebx
	\ophi 24(%esp), %ecx
	jmp 3f                          /* ends the block: see above */
3:	lock cmpxchg8b (%esi)
	jnz 1b
	testl %edi, %edi
	jz 2f
	movl %ebx, %eax
	movl %ecx, %edx
2:	popl %edi
	popl %esi
	popl %ebx
	ret
.endm

	ATOMIC_OP add, addl, adcl
	ATOMIC_OP sub, subl, sbbl
	ATOMIC_OP and, andl, andl
	ATOMIC_OP or, orl, orl
	ATOMIC_OP xor, xorl, xorl

	.section .note.GNU-stack, "", @progbits
