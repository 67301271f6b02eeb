import { AppError } from '../shared/errors/index.js';

/** No sandbox driver can give the isolation a VM type or a data classification demands. */
export class SandboxIsolationUnavailableError extends AppError {
  readonly code = 'SANDBOX_ISOLATION_UNAVAILABLE';
  readonly kind = 'unavailable';
  constructor(required: string, reason: string) {
    super(`No sandbox driver on this host gives ${required} isolation: ${reason}`, { details: { required, reason } });
  }
}

/** A driver was asked to run work above its isolation level (the process driver and SecureVM). */
export class SandboxIsolationRefusedError extends AppError {
  readonly code = 'SANDBOX_ISOLATION_REFUSED';
  readonly kind = 'forbidden';
  constructor(driver: string, required: string) {
    super(`The ${driver} driver refuses work that needs ${required} isolation; install bubblewrap or runsc`, {
      details: { driver, required },
    });
  }
}

/** The sandbox failed to start or its runtime failed (bwrap/runsc error, cgroup write refused). */
export class SandboxFailedError extends AppError {
  readonly code = 'SANDBOX_FAILED';
  readonly kind = 'unavailable';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
  }
}

/** A file path given to readFile/writeFile/upload/download that would leave the sandbox. */
export class SandboxPathInvalidError extends AppError {
  readonly code = 'SANDBOX_PATH_INVALID';
  readonly kind = 'invalid';
  constructor(path: string, reason: string) {
    super(`Path ${JSON.stringify(path)} is not allowed: ${reason}`, { details: { field: 'path', path, reason } });
  }
}

/** A file asked for inside a sandbox does not exist there (or is not a regular file). */
export class SandboxFileNotFoundError extends AppError {
  readonly code = 'SANDBOX_FILE_NOT_FOUND';
  readonly kind = 'not_found';
  constructor(path: string) {
    super(`File ${path} was not found in the sandbox`, { details: { path } });
  }
}

/** The VM is stopped or being destroyed and cannot run anything. */
export class VmNotRunningError extends AppError {
  readonly code = 'VM_NOT_RUNNING';
  readonly kind = 'conflict';
  constructor(vmId: string, state: string) {
    super(`VM ${vmId} is ${state}`, { details: { vm_id: vmId, state } });
  }
}

/** A tenant's VM quota (count, vCPUs or memory) would be exceeded. */
export class VmQuotaExceededError extends AppError {
  readonly code = 'VM_QUOTA_EXCEEDED';
  readonly kind = 'limit_exceeded';
  constructor(resource: 'vms' | 'vcpus' | 'memory_mb', limit: number, requested: number) {
    super(`VM quota exceeded: ${resource} would be ${String(requested)}, limit ${String(limit)}`, {
      details: { resource, limit, requested },
    });
  }
}

/** The language's toolchain is not installed on the host; `details.package` names the Debian package. */
export class ToolchainMissingError extends AppError {
  readonly code = 'TOOLCHAIN_MISSING';
  // A 4xx: the request names a language this host cannot serve until the operator installs it.
  readonly kind = 'invalid';
  constructor(language: string, binary: string, debianPackage: string) {
    super(`${language} needs ${binary}, which is not installed; install the Debian package ${debianPackage}`, {
      details: { language, binary, package: debianPackage },
    });
  }
}

/** A VM token that is malformed, expired, forged or scoped to another VM/run. */
export class VmTokenInvalidError extends AppError {
  readonly code = 'VM_TOKEN_INVALID';
  readonly kind = 'unauthenticated';
  constructor(reason: string) {
    super(`VM token rejected: ${reason}`, { details: { reason } });
  }
}

/** Building the base image failed (debootstrap missing or failing). */
export class ImageBuildFailedError extends AppError {
  readonly code = 'IMAGE_BUILD_FAILED';
  readonly kind = 'unavailable';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
  }
}
