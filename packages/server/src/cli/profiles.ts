import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import { z } from 'zod';

const profileSchema = z.object({ url: z.string(), api_key: z.string().optional(), tenant_id: z.string().optional() });
const profilesSchema = z.object({ profiles: z.record(z.string(), profileSchema) });
export type Profile = z.infer<typeof profileSchema>;

function profilesFile(home: string): string {
  return join(home, 'profiles.json');
}

/** The saved CLI profiles (`aether login`, `aether init`), in `$AETHER_HOME/profiles.json` (0600). */
export async function readProfiles(home: string): Promise<Record<string, Profile>> {
  let text: string;
  try {
    text = await readFile(profilesFile(home), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  const parsed = profilesSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${profilesFile(home)} is not a valid profiles file; fix or delete it`);
  return parsed.data.profiles;
}

export async function saveProfile(home: string, name: string, profile: Profile): Promise<void> {
  const profiles = { ...(await readProfiles(home)), [name]: profile };
  const file = profilesFile(home);
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, `${JSON.stringify({ profiles }, null, 2)}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
}

/** Where `aether init` keeps the operator key, readable only by its owner. */
export function operatorKeyFile(home: string): string {
  return join(home, 'operator.key');
}

export async function readOperatorKey(home: string): Promise<string | undefined> {
  try {
    return (await readFile(operatorKeyFile(home), 'utf8')).trim() || undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export async function saveOperatorKey(home: string, key: string): Promise<void> {
  const file = operatorKeyFile(home);
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
}
