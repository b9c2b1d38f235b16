// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The initial VMSA (the encrypted register state) of an SEV-ES or SNP
 * vCPU, as KVM hands it to the PSP for LAUNCH_UPDATE_VMSA with QEMU's
 * reset state: the PSP measures these pages, one per vCPU, so the
 * launch digest changes with the vCPU count, the CPU model (its CPUID
 * signature is rdx), the SEV features and the FPU fields below.
 *
 * Offsets are those of struct sev_es_save_area (Linux's
 * arch/x86/include/asm/svm.h; AMD APM vol. 2, table B-4); every field
 * not set here is zero.
 */
#include <string.h>

#include "sev.h"

enum vmsa_offset {
	OFF_ES = 0x000, OFF_CS = 0x010, OFF_SS = 0x020, OFF_DS = 0x030,
	OFF_FS = 0x040, OFF_GS = 0x050, OFF_GDTR = 0x060, OFF_LDTR = 0x070,
	OFF_IDTR = 0x080, OFF_TR = 0x090,
	OFF_EFER = 0x0d0, OFF_CR4 = 0x148, OFF_CR0 = 0x158, OFF_DR7 = 0x160,
	OFF_DR6 = 0x168, OFF_RFLAGS = 0x170, OFF_RIP = 0x178, OFF_G_PAT = 0x268,
	OFF_RDX = 0x310, OFF_SEV_FEATURES = 0x3b0, OFF_XCR0 = 0x3e8,
	OFF_MXCSR = 0x408, OFF_X87_FCW = 0x410,
};

/* Reset values (APM vol. 2, 14.1.3), and what KVM sets on top. */
#define EFER_SVME 0x1000ull		/* KVM runs the guest with SVM enabled */
#define CR4_MCE 0x40ull
#define CR0_ET 0x10ull
#define DR7_RESET 0x400ull
#define DR6_RESET 0xffff0ff0ull
#define RFLAGS_RESET 0x2ull
#define PAT_RESET 0x0007040600070406ull
#define XCR0_X87 0x1ull
#define MXCSR_RESET 0x1f80u
#define FCW_RESET 0x037fu

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static void put_seg(uint8_t *page, enum vmsa_offset off, uint16_t selector, uint16_t attrib,
		    uint32_t limit, uint64_t base)
{
	put16(page + off, selector);
	put16(page + off + 2, attrib);
	put32(page + off + 4, limit);
	put64(page + off + 8, base);
}

/*
 * Real mode at the reset vector: cs base and ip split the entry point
 * (the BSP's 0xfffffff0, or the APs' reset address from the firmware's
 * footer table), attributes as QEMU's x86_cpu_reset() sets them.
 */
static void put_segments(uint8_t *page, uint32_t eip)
{
	put_seg(page, OFF_ES, 0, 0x93, 0xffff, 0);
	put_seg(page, OFF_CS, 0xf000, 0x9b, 0xffff, eip & 0xffff0000u);
	put_seg(page, OFF_SS, 0, 0x93, 0xffff, 0);
	put_seg(page, OFF_DS, 0, 0x93, 0xffff, 0);
	put_seg(page, OFF_FS, 0, 0x93, 0xffff, 0);
	put_seg(page, OFF_GS, 0, 0x93, 0xffff, 0);
	put_seg(page, OFF_GDTR, 0, 0, 0xffff, 0);
	put_seg(page, OFF_LDTR, 0, 0x82, 0xffff, 0);
	put_seg(page, OFF_IDTR, 0, 0, 0xffff, 0);
	put_seg(page, OFF_TR, 0, 0x8b, 0xffff, 0);
}

void vmsa_build(const struct vmsa_params *p, uint8_t page[VMSA_SIZE])
{
	memset(page, 0, VMSA_SIZE);
	put_segments(page, p->eip);
	put64(page + OFF_EFER, EFER_SVME);
	put64(page + OFF_CR4, CR4_MCE);
	put64(page + OFF_CR0, CR0_ET);
	put64(page + OFF_DR7, DR7_RESET);
	put64(page + OFF_DR6, DR6_RESET);
	put64(page + OFF_RFLAGS, RFLAGS_RESET);
	put64(page + OFF_RIP, p->eip & 0xffffu);
	put64(page + OFF_G_PAT, PAT_RESET);
	put64(page + OFF_RDX, p->vcpu_sig);
	put64(page + OFF_SEV_FEATURES, p->sev_features);
	put64(page + OFF_XCR0, XCR0_X87);
	/*
	 * KVM_SEV_ES_INIT (QEMU before 9.1, and later with the default
	 * legacy-vm-type) leaves the FPU save area zero; KVM_SEV_INIT2
	 * (SNP always, SEV-ES with legacy-vm-type=off) syncs the reset
	 * values of mxcsr and the x87 control word into it.
	 */
	if (p->fpu == VMSA_FPU_INIT2) {
		put32(page + OFF_MXCSR, MXCSR_RESET);
		put16(page + OFF_X87_FCW, FCW_RESET);
	}
}
