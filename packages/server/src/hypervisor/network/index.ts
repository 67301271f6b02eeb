/**
 * @module hypervisor/network
 * Spec §06: per-VM network namespaces whose only reachable address is our egress proxy (domain
 * allowlist, no private/metadata addresses, per-tenant and per-VM rate limits), and short-lived
 * VM tokens for VM-to-kernel calls.
 */
export { hostAllowed, isForbiddenAddress } from './address-policy.js';
export { EgressProxy, systemResolver, type EgressDecision, type EgressPolicy, type EgressProxyDeps, type Resolver } from './egress-proxy.js';
export { createNetworkNamespace, listenInNamespace, type NetworkNamespace } from './netns.js';
export { VmTokenIssuer, type VmTokenClaims } from './vm-token.js';
export { ProxyNetworkProvider } from './proxy-network-provider.js';
