/**
 * A fake OpenAI-compatible vendor in its own process, as a real vendor is remote: the bench's
 * process then spends its CPU only on the caller's side. Prints `{"url"}` once listening and
 * serves until its stdin closes (the bench exits or ends it).
 */
import { FakeVendorServer } from '../packages/server/src/runtime/providers/testing/fake-vendor-server.js';
import { openAiAnswer } from '../packages/server/src/runtime/providers/testing/vendor-wire.js';

const server = await FakeVendorServer.start();
server.always(openAiAnswer({ text: 'a short answer from the fake vendor' }));
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  void server.close().then(() => process.exit(0));
});
