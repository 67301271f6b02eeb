import { describe, expect, it } from 'vitest';

import { buildSandboxSeccompProgram, DENIED_SYSCALLS_X86_64, evaluateSeccompProgram, SECCOMP_RESULT, SYSCALL_NUMBERS } from './seccomp-bpf.js';

const program = buildSandboxSeccompProgram();

describe('buildSandboxSeccompProgram', () => {
  it('emits whole sock_filter records', () => {
    expect(program.length % 8).toBe(0);
    expect(program.length / 8).toBeLessThan(4096);
  });

  it('denies every listed syscall with EPERM', () => {
    for (const [name, nr] of Object.entries(DENIED_SYSCALLS_X86_64)) {
      expect(evaluateSeccompProgram(program, { nr }), name).toBe(SECCOMP_RESULT.eperm);
    }
  });

  it('allows ordinary syscalls (read, write, openat, execve, exit_group)', () => {
    for (const nr of [0, 1, 257, 59, 231]) expect(evaluateSeccompProgram(program, { nr })).toBe(SECCOMP_RESULT.allow);
  });

  it('kills a process calling in through another architecture', () => {
    expect(evaluateSeccompProgram(program, { nr: 1, arch: 0x40000003 })).toBe(SECCOMP_RESULT.kill);
  });

  it('denies x32 syscalls', () => {
    expect(evaluateSeccompProgram(program, { nr: 0x40000000 + 1 })).toBe(SECCOMP_RESULT.eperm);
  });

  it('denies clone with namespace flags but allows plain fork and threads', () => {
    expect(evaluateSeccompProgram(program, { nr: SYSCALL_NUMBERS.clone, args: [0x10000000] })).toBe(SECCOMP_RESULT.eperm);
    expect(evaluateSeccompProgram(program, { nr: SYSCALL_NUMBERS.clone, args: [0x20000000] })).toBe(SECCOMP_RESULT.eperm);
    expect(evaluateSeccompProgram(program, { nr: SYSCALL_NUMBERS.clone, args: [0x01200011] })).toBe(SECCOMP_RESULT.allow);
    expect(evaluateSeccompProgram(program, { nr: SYSCALL_NUMBERS.clone, args: [0x003d0f00] })).toBe(SECCOMP_RESULT.allow);
  });

  it('answers clone3 with ENOSYS so libc falls back to clone', () => {
    expect(evaluateSeccompProgram(program, { nr: SYSCALL_NUMBERS.clone3 })).toBe(SECCOMP_RESULT.enosys);
  });

  it('denies the TIOCSTI and TIOCLINUX ioctls and allows others', () => {
    expect(evaluateSeccompProgram(program, { nr: SYSCALL_NUMBERS.ioctl, args: [0, SYSCALL_NUMBERS.TIOCSTI] })).toBe(SECCOMP_RESULT.eperm);
    expect(evaluateSeccompProgram(program, { nr: SYSCALL_NUMBERS.ioctl, args: [0, SYSCALL_NUMBERS.TIOCLINUX] })).toBe(SECCOMP_RESULT.eperm);
    expect(evaluateSeccompProgram(program, { nr: SYSCALL_NUMBERS.ioctl, args: [0, 0x5401] })).toBe(SECCOMP_RESULT.allow);
  });
});
