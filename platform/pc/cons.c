// SPDX-License-Identifier: BSD-2-Clause
/*
 * cons.c - serial console on COM1.
 *
 * Output path: pc_printf formats into the calling CPU's line buffer
 * (struct pc_cpu.c_line) with interrupts disabled; a complete line (or a
 * full buffer) is then written to the UART while holding the console lock.
 * So lines from different CPUs never interleave, and a line is never split
 * by an interrupt handler on the same CPU that prints too (interrupts are
 * off while the line is built).
 *
 * The console lock records its owner CPU and is re-entrant on that CPU:
 * if an exception (NMI, #DF, a bug) hits while this CPU is writing a line,
 * the handler's output must still come out rather than deadlock.  After a
 * panic pc_cons_break_lock() makes every writer ignore the lock, so the
 * panic message cannot be held up by a CPU that stopped while writing.
 *
 * '\n' goes out as "\r\n" for terminals; run-qemu.sh strips the '\r'.
 */
#include "pc_internal.h"

#define COM1            0x3f8
#define UART_DATA       0
#define UART_IER        1
#define UART_FCR        2
#define UART_LCR        3
#define UART_MCR        4
#define UART_LSR        5
#define UART_LSR_THRE   0x20

static int32_t pc_cons_owner = -1;      /* (a) CPU writing a line */
static uint32_t pc_cons_depth;          /* nesting on the owner CPU */
static bool pc_cons_broken;             /* panic: ignore the lock */

void
pc_cons_init(void)
{
	pc_outb(COM1 + UART_IER, 0x00);         /* no interrupts */
	pc_outb(COM1 + UART_LCR, 0x80);         /* DLAB */
	pc_outb(COM1 + UART_DATA, 0x01);        /* divisor 1: 115200 */
	pc_outb(COM1 + UART_IER, 0x00);
	pc_outb(COM1 + UART_LCR, 0x03);         /* 8N1 */
	pc_outb(COM1 + UART_FCR, 0xc7);         /* FIFO on, cleared */
	pc_outb(COM1 + UART_MCR, 0x03);         /* DTR, RTS */
}

/*
 * THRE with the FIFO enabled means the whole 16-byte transmit FIFO is
 * empty, so one status read is good for 16 bytes.  That matters under a
 * hypervisor, where each port access is an exit: the MMU-probe mode prints
 * megabytes.
 */
#define UART_FIFO_SIZE  16

static unsigned serial_room;    /* bytes the FIFO takes without a check */

static void
serial_putc(char c)
{
	if (serial_room == 0) {
		/* Bounded wait: a missing UART must not hang the kernel. */
		for (int i = 0; i < 100000; i++) {
			if (pc_inb(COM1 + UART_LSR) & UART_LSR_THRE)
				break;
			pc_cpu_relax();
		}
		serial_room = UART_FIFO_SIZE;
	}
	serial_room--;
	pc_outb(COM1 + UART_DATA, (uint8_t)c);
}

static void
serial_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			serial_putc('\r');
		serial_putc(s[i]);
	}
}

void
pc_cons_puts_raw(const char *s)
{
	serial_write(s, strlen(s));
}

void
pc_cons_break_lock(void)
{
	__atomic_store_n(&pc_cons_broken, true, __ATOMIC_RELEASE);
}

static void
cons_lock(void)
{
	int32_t me = pc_cpu_id(), expect;

	if (__atomic_load_n(&pc_cons_owner, __ATOMIC_RELAXED) == me) {
		pc_cons_depth++;
		return;
	}
	for (;;) {
		expect = -1;
		if (__atomic_compare_exchange_n(&pc_cons_owner, &expect, me,
		    false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return;
		if (__atomic_load_n(&pc_cons_broken, __ATOMIC_ACQUIRE))
			return;
		pc_cpu_relax();
	}
}

static void
cons_unlock(void)
{
	int32_t me = pc_cpu_id();

	if (__atomic_load_n(&pc_cons_owner, __ATOMIC_RELAXED) != me)
		return;         /* broken lock: we never owned it */
	if (pc_cons_depth > 0) {
		pc_cons_depth--;
		return;
	}
	__atomic_store_n(&pc_cons_owner, -1, __ATOMIC_RELEASE);
}

/* Write out this CPU's pending line; interrupts must be disabled. */
static void
cons_flush_locked_cpu(struct pc_cpu *c)
{
	uint32_t n = c->c_line_len;

	if (n == 0)
		return;
	c->c_line_len = 0;
	cons_lock();
	serial_write(c->c_line, n);
	cons_unlock();
}

static void
cons_putc(int ch, void *arg)
{
	struct pc_cpu *c = arg;

	c->c_line[c->c_line_len++] = (char)ch;
	if (ch == '\n' || c->c_line_len >= PC_CONS_LINE - 1)
		cons_flush_locked_cpu(c);
}

void
pc_cons_flush(void)
{
	pc_intr_state_t s = pc_intr_disable();

	cons_flush_locked_cpu(pc_cpu_self());
	pc_intr_restore(s);
}

int
pc_vprintf(const char *fmt, va_list ap)
{
	pc_intr_state_t s = pc_intr_disable();
	int n = pc_vformat(cons_putc, pc_cpu_self(), fmt, ap);

	pc_intr_restore(s);
	return n;
}

int
pc_printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = pc_vprintf(fmt, ap);
	va_end(ap);
	return n;
}
