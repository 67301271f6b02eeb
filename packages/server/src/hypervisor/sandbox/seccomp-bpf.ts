/**
 * Builds the classic-BPF seccomp program that every bwrap sandbox runs under, byte for byte,
 * without native addons. bubblewrap reads it from a file descriptor (`--seccomp FD`) as an array
 * of `struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }` in host byte order.
 *
 * Policy: default allow (the namespaces, cgroups and unprivileged uid are the walls), deny with
 * EPERM the syscalls that widen the kernel attack surface or leave the sandbox: ptrace, mount
 * family, unshare/setns, namespace flags on clone, keyrings, bpf, userfaultfd, perf_event_open,
 * io_uring, kernel modules, kexec, TIOCSTI/TIOCLINUX ioctls, and every x32 syscall. clone3 gets
 * ENOSYS so libc falls back to clone, whose flags we can inspect (clone3 passes them in memory).
 */

const BPF_LD_W_ABS = 0x20;
const BPF_JEQ_K = 0x15;
const BPF_JGE_K = 0x35;
const BPF_JSET_K = 0x45;
const BPF_RET_K = 0x06;

const SECCOMP_RET_KILL_PROCESS = 0x80000000;
const SECCOMP_RET_ERRNO = 0x00050000;
const SECCOMP_RET_ALLOW = 0x7fff0000;
const AUDIT_ARCH_X86_64 = 0xc000003e;
const X32_SYSCALL_BIT = 0x40000000;
const EPERM = 1;
const ENOSYS = 38;

const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
/** Low 32 bits of syscall argument `i` (little-endian u64 at 16 + 8i). */
const argLow = (i: number): number => 16 + 8 * i;

/** x86_64 syscall numbers denied with EPERM, by name (the names appear in tests and docs). */
export const DENIED_SYSCALLS_X86_64: Readonly<Record<string, number>> = {
  ptrace: 101,
  syslog: 103,
  acct: 163,
  mount: 165,
  umount2: 166,
  swapon: 167,
  swapoff: 168,
  reboot: 169,
  sethostname: 170,
  setdomainname: 171,
  iopl: 172,
  ioperm: 173,
  init_module: 175,
  delete_module: 176,
  quotactl: 179,
  pivot_root: 155,
  lookup_dcookie: 212,
  kexec_load: 246,
  add_key: 248,
  request_key: 249,
  keyctl: 250,
  unshare: 272,
  perf_event_open: 298,
  name_to_handle_at: 303,
  open_by_handle_at: 304,
  setns: 308,
  process_vm_readv: 310,
  process_vm_writev: 311,
  finit_module: 313,
  kexec_file_load: 320,
  bpf: 321,
  userfaultfd: 323,
  io_uring_setup: 425,
  io_uring_enter: 426,
  io_uring_register: 427,
  open_tree: 428,
  move_mount: 429,
  fsopen: 430,
  fsconfig: 431,
  fsmount: 432,
  fspick: 433,
  mount_setattr: 442,
};

const SYS_IOCTL = 16;
const SYS_CLONE = 56;
const SYS_CLONE3 = 435;
const TIOCSTI = 0x5412;
const TIOCLINUX = 0x541c;
/** CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWTIME(0x80). */
const CLONE_NAMESPACE_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x80;

type Instruction =
  | { op: 'ld'; offset: number }
  | { op: 'jeq' | 'jge' | 'jset'; k: number; then: string; else?: string }
  | { op: 'ret'; k: number }
  | { op: 'label'; name: string };

/** Resolves labels to the relative forward offsets classic BPF wants and serialises the program. */
function assemble(program: readonly Instruction[]): Buffer {
  const labels = new Map<string, number>();
  let index = 0;
  for (const instruction of program) {
    if (instruction.op === 'label') labels.set(instruction.name, index);
    else index += 1;
  }
  const out = Buffer.alloc(index * 8);
  index = 0;
  const jump = (from: number, label: string | undefined): number => {
    if (label === undefined) return 0;
    const target = labels.get(label);
    if (target === undefined) throw new Error(`seccomp: unknown label ${label}`);
    const delta = target - from - 1;
    if (delta < 0 || delta > 255) throw new Error(`seccomp: jump to ${label} out of range`);
    return delta;
  };
  for (const instruction of program) {
    if (instruction.op === 'label') continue;
    const at = index * 8;
    switch (instruction.op) {
      case 'ld':
        out.writeUInt16LE(BPF_LD_W_ABS, at);
        out.writeUInt32LE(instruction.offset, at + 4);
        break;
      case 'ret':
        out.writeUInt16LE(BPF_RET_K, at);
        out.writeUInt32LE(instruction.k >>> 0, at + 4);
        break;
      case 'jeq':
      case 'jge':
      case 'jset': {
        const code = instruction.op === 'jeq' ? BPF_JEQ_K : instruction.op === 'jge' ? BPF_JGE_K : BPF_JSET_K;
        out.writeUInt16LE(code, at);
        out.writeUInt8(jump(index, instruction.then), at + 2);
        out.writeUInt8(jump(index, instruction.else), at + 3);
        out.writeUInt32LE(instruction.k >>> 0, at + 4);
        break;
      }
    }
    index += 1;
  }
  return out;
}

/** The sandbox seccomp program for x86_64, ready to hand to `bwrap --seccomp FD`. */
export function buildSandboxSeccompProgram(): Buffer {
  const program: Instruction[] = [
    { op: 'ld', offset: OFFSET_ARCH },
    { op: 'jeq', k: AUDIT_ARCH_X86_64, then: 'arch_ok', else: 'kill' },
    { op: 'label', name: 'arch_ok' },
    { op: 'ld', offset: OFFSET_NR },
    { op: 'jge', k: X32_SYSCALL_BIT, then: 'eperm' },
    ...Object.values(DENIED_SYSCALLS_X86_64).map((nr): Instruction => ({ op: 'jeq', k: nr, then: 'eperm' })),
    { op: 'jeq', k: SYS_CLONE3, then: 'enosys' },
    { op: 'jeq', k: SYS_CLONE, then: 'clone' },
    { op: 'jeq', k: SYS_IOCTL, then: 'ioctl' },
    { op: 'ret', k: SECCOMP_RET_ALLOW },
    { op: 'label', name: 'clone' },
    { op: 'ld', offset: argLow(0) },
    { op: 'jset', k: CLONE_NAMESPACE_FLAGS, then: 'eperm' },
    { op: 'ret', k: SECCOMP_RET_ALLOW },
    { op: 'label', name: 'ioctl' },
    { op: 'ld', offset: argLow(1) },
    { op: 'jeq', k: TIOCSTI, then: 'eperm' },
    { op: 'jeq', k: TIOCLINUX, then: 'eperm' },
    { op: 'ret', k: SECCOMP_RET_ALLOW },
    { op: 'label', name: 'eperm' },
    { op: 'ret', k: SECCOMP_RET_ERRNO | EPERM },
    { op: 'label', name: 'enosys' },
    { op: 'ret', k: SECCOMP_RET_ERRNO | ENOSYS },
    { op: 'label', name: 'kill' },
    { op: 'ret', k: SECCOMP_RET_KILL_PROCESS },
  ];
  return assemble(program);
}

/**
 * Runs the program against one syscall, as the kernel would; used by unit tests to check the
 * bytes (not the intent) without loading anything into the kernel.
 */
export function evaluateSeccompProgram(program: Buffer, data: { nr: number; arch?: number; args?: readonly number[] }): number {
  const seccompData = Buffer.alloc(64);
  seccompData.writeUInt32LE(data.nr >>> 0, OFFSET_NR);
  seccompData.writeUInt32LE((data.arch ?? AUDIT_ARCH_X86_64) >>> 0, OFFSET_ARCH);
  (data.args ?? []).forEach((value, i) => seccompData.writeUInt32LE(value >>> 0, argLow(i)));
  let accumulator = 0;
  let pc = 0;
  const count = program.length / 8;
  while (pc < count) {
    const at = pc * 8;
    const code = program.readUInt16LE(at);
    const jt = program.readUInt8(at + 2);
    const jf = program.readUInt8(at + 3);
    const k = program.readUInt32LE(at + 4);
    if (code === BPF_LD_W_ABS) accumulator = seccompData.readUInt32LE(k);
    else if (code === BPF_RET_K) return k;
    else {
      const taken = code === BPF_JEQ_K ? accumulator === k : code === BPF_JGE_K ? accumulator >= k : (accumulator & k) !== 0;
      pc += taken ? jt : jf;
    }
    pc += 1;
  }
  throw new Error('seccomp: program fell off its end');
}

export const SECCOMP_RESULT = { allow: SECCOMP_RET_ALLOW, eperm: SECCOMP_RET_ERRNO | EPERM, enosys: SECCOMP_RET_ERRNO | ENOSYS, kill: SECCOMP_RET_KILL_PROCESS } as const;
export const SYSCALL_NUMBERS = { ioctl: SYS_IOCTL, clone: SYS_CLONE, clone3: SYS_CLONE3, TIOCSTI, TIOCLINUX, AUDIT_ARCH_X86_64 } as const;
