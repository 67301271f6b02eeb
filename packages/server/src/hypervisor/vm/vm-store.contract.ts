import { describe, expect, it } from 'vitest';

import { asTenantId, systemContext } from '../../shared/context/index.js';
import type { VmRecord, VmStore } from './vm-store.js';

const tenantA = systemContext(asTenantId('tnt_a'), 'test');
const tenantB = systemContext(asTenantId('tnt_b'), 'test');

function record(id: string, tenant: typeof tenantA, overrides: Partial<VmRecord> = {}): VmRecord {
  return {
    id,
    tenantId: tenant.tenantId,
    type: 'microvm',
    driver: 'bwrap',
    state: 'running',
    vcpus: 1,
    memoryMb: 256,
    classification: 'internal',
    image: 'host',
    sandboxName: id,
    createdAt: new Date('2030-01-01T00:00:00Z'),
    expiresAt: new Date('2030-01-01T00:05:00Z'),
    stoppedAt: null,
    ...overrides,
  };
}

/** The behaviour every VmStore must have; run against the fake and the PostgreSQL store. */
export function describeVmStoreContract(name: string, makeStore: () => Promise<VmStore> | VmStore): void {
  describe(`${name} (VmStore contract)`, () => {
    it('returns what was inserted, to its own tenant only', async () => {
      const store = await makeStore();
      await store.insert(tenantA, record('vm_1', tenantA));
      expect(await store.get(tenantA, 'vm_1')).toEqual(record('vm_1', tenantA));
      expect(await store.get(tenantB, 'vm_1')).toBeUndefined();
      expect(await store.list(tenantB)).toEqual([]);
    });

    it('lists a tenant\'s VMs by id and hides destroyed ones unless asked', async () => {
      const store = await makeStore();
      await store.insert(tenantA, record('vm_2', tenantA));
      await store.insert(tenantA, record('vm_1', tenantA));
      await store.insert(tenantB, record('vm_3', tenantB));
      await store.setState(tenantA, 'vm_2', { state: 'destroyed', at: new Date('2030-01-01T00:01:00Z') });
      expect((await store.list(tenantA)).map((vm) => vm.id)).toEqual(['vm_1']);
      expect((await store.list(tenantA, { includeDestroyed: true })).map((vm) => vm.id)).toEqual(['vm_1', 'vm_2']);
      expect((await store.get(tenantA, 'vm_2'))?.stoppedAt).toEqual(new Date('2030-01-01T00:01:00Z'));
    });

    it('does not let one tenant change another tenant\'s VM', async () => {
      const store = await makeStore();
      await store.insert(tenantA, record('vm_1', tenantA));
      await store.setState(tenantB, 'vm_1', { state: 'destroyed', at: new Date() });
      expect((await store.get(tenantA, 'vm_1'))?.state).toBe('running');
    });

    it('finds running VMs of every tenant at or past their expiry', async () => {
      const store = await makeStore();
      await store.insert(tenantA, record('vm_1', tenantA, { expiresAt: new Date('2030-01-01T00:05:00Z') }));
      await store.insert(tenantB, record('vm_2', tenantB, { expiresAt: new Date('2030-01-01T00:10:00Z') }));
      await store.insert(tenantB, record('vm_3', tenantB, { expiresAt: new Date('2030-01-01T00:01:00Z'), state: 'stopped' }));
      expect((await store.listExpired(new Date('2030-01-01T00:05:00Z'))).map((vm) => vm.id)).toEqual(['vm_1']);
      expect((await store.listExpired(new Date('2030-01-01T00:20:00Z'))).map((vm) => vm.id).sort()).toEqual(['vm_1', 'vm_2']);
      expect((await store.listRunning()).map((vm) => vm.id).sort()).toEqual(['vm_1', 'vm_2']);
    });
  });
}
