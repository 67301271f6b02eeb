import type { TenantContext } from '../../shared/context/index.js';
import type { SandboxNetwork } from '../sandbox/index.js';
import type { VmNetworkProvider, VmType } from '../vm/index.js';
import { VM_PROFILES } from '../vm/index.js';
import type { EgressProxy } from './egress-proxy.js';

/**
 * Spec §06 per-type policy on top of the egress proxy: SecureVM none; MicroVM (restricted) and
 * DevVM (filtered) the operator's allowlist; AgentVM (open) any public host. A VM whose allowlist
 * is empty gets no network at all (nothing would be reachable, and it can come from a warm pool).
 */
export class ProxyNetworkProvider implements VmNetworkProvider {
  readonly #proxy: EgressProxy;
  readonly #allowlist: readonly string[];

  constructor(deps: { proxy: EgressProxy; allowlist: readonly string[] }) {
    this.#proxy = deps.proxy;
    this.#allowlist = deps.allowlist;
  }

  networkFor(ctx: TenantContext, vm: { readonly id: string; readonly type: VmType }): SandboxNetwork {
    const policy = VM_PROFILES[vm.type].network;
    if (policy === 'none') return { mode: 'none' };
    const allowlist = policy === 'open' ? 'any' : this.#allowlist;
    if (allowlist !== 'any' && allowlist.length === 0) return { mode: 'none' };
    return this.#proxy.networkFor({ tenantId: ctx.tenantId, vmId: vm.id, allowlist });
  }
}
