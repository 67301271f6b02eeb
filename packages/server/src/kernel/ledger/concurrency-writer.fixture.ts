/**
 * Child process of `ledger-concurrency.int.test.ts`: appends to one tenant's ledger from several
 * concurrent writers. Arguments: url schema tenantId masterKeyHex writers appendsPerWriter label [report].
 * With `report`, prints the seq of every acknowledged append, so a test can kill it mid-write.
 */
import { openDatabase } from '../../infra/database/index.js';
import { asTenantId, systemContext } from '../../shared/context/index.js';
import { SystemClock, silentLogger } from '../../shared/ports/index.js';
import { LedgerService } from './ledger-service.js';

const [url, schema, tenantId, masterKeyHex, writersText, perWriterText, label, report] = process.argv.slice(2);
if (!url || !schema || !tenantId || !masterKeyHex || !writersText || !perWriterText || !label) throw new Error('missing arguments');
const writers = Number(writersText);
const perWriter = Number(perWriterText);
const db = await openDatabase({ engine: 'postgres', url, schema, poolSize: writers + 1 });
const ledger = new LedgerService({ db, masterKey: Buffer.from(masterKeyHex, 'hex'), clock: new SystemClock(), logger: silentLogger, options: { checkpointEvery: 500 } });
const ctx = systemContext(asTenantId(tenantId), label);
await Promise.all(
  Array.from({ length: writers }, async (_, writer) => {
    for (let i = 0; i < perWriter; i += 1) {
      const receipt = await ledger.append(ctx, { kind: 'tool.called', subject: { task_id: `${label}-${String(writer)}` }, payload: { writer: `${label}-${String(writer)}`, i } });
      if (report === 'report') process.stdout.write(`${String(receipt.seq)} ${receipt.hash}\n`);
    }
  }),
);
await db.close();
