// Loaded with `node --import` (through NODE_OPTIONS, so bench workers get it too) by
// `npm run bench`: the benches then measure the server as `npm start` runs it, compiled by tsc
// into packages/server/dist, and not the TypeScript sources as tsx transforms them on the fly.
// tsx compiles with esbuild's keepNames, which wraps every function it creates in a
// `__name(fn, "name")` call (an Object.defineProperty): a closure made per request or per call
// then costs more than it does in the shipped code, and the figures would be of code nobody runs.
// Test helpers (`testing/` directories, tests) are not compiled into dist and stay on tsx; the
// product modules they import resolve to dist too, so each module is loaded once.
import { register } from 'node:module';

register(new URL('./built-code-hooks.mjs', import.meta.url));
