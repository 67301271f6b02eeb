import { AetherApiError, type Tenant } from '@aether/protocol';
import { useState, type SyntheticEvent } from 'react';

import { clientFor, saveKey, savedKey } from '../lib/api-client';

interface Workspace {
  readonly tenant: Tenant;
  readonly role: string | null;
  readonly keys: readonly { id: string; name: string; role: string; revoked_at: string | null }[];
}

export function App() {
  const [apiKey, setApiKey] = useState(savedKey());
  const [workspace, setWorkspace] = useState<Workspace | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function connect(event?: SyntheticEvent<HTMLFormElement>) {
    event?.preventDefault();
    setError(null);
    try {
      const client = clientFor(apiKey);
      const me = await client.getMe({});
      if (!me.tenant_id) throw new Error('Use a tenant API key here; the operator key acts across tenants.');
      const [tenant, keys] = await Promise.all([
        client.getTenant({ params: { tenantId: me.tenant_id } }),
        client.listApiKeys({}).catch(() => ({ items: [] })),
      ]);
      saveKey(apiKey);
      setWorkspace({ tenant, role: me.role, keys: keys.items });
    } catch (caught) {
      setWorkspace(null);
      setError(caught instanceof AetherApiError ? `${caught.code}: ${caught.message}` : String(caught));
    }
  }

  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', maxWidth: 880, margin: '2rem auto', padding: '0 1rem' }}>
      <header style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'baseline' }}>
        <h1>Aether</h1>
        <a href="/docs">API reference</a>
      </header>
      <form onSubmit={(event) => void connect(event)} style={{ display: 'flex', gap: 8 }}>
        <input
          aria-label="API key"
          placeholder="ak_… API key"
          value={apiKey}
          onChange={(event) => { setApiKey(event.target.value); }}
          style={{ flex: 1, padding: 8, fontFamily: 'monospace' }}
        />
        <button type="submit">Connect</button>
      </form>
      {error && <p role="alert" style={{ color: '#b00020' }}>{error}</p>}
      {workspace && (
        <section>
          <h2>{workspace.tenant.name}</h2>
          <p>
            Tenant <code>{workspace.tenant.id}</code> · {workspace.tenant.status} · your role: {workspace.role}
          </p>
          <h3>Quotas</h3>
          <ul>
            {Object.entries(workspace.tenant.quotas).map(([name, value]) => (
              <li key={name}>{name}: {value}</li>
            ))}
          </ul>
          <h3>API keys</h3>
          <ul>
            {workspace.keys.map((key) => (
              <li key={key.id}>
                <code>{key.id}</code> {key.name} ({key.role}){key.revoked_at ? ' — revoked' : ''}
              </li>
            ))}
          </ul>
        </section>
      )}
    </main>
  );
}
