#!/usr/bin/env node
/**
 * The `aether` binary: loadConfig → CLI, whose serve command runs createApp → listen and closes
 * in reverse order on SIGTERM or SIGINT.
 */
import { createLauncher, loadConfig, VERSION } from './app/index.js';
import { runCli, type CliIo } from './cli/index.js';
import { errorMessage } from './shared/errors/index.js';

const io: CliIo = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

function waitForStop(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => { resolve('SIGINT'); });
    process.once('SIGTERM', () => { resolve('SIGTERM'); });
  });
}

let exitCode: number;
try {
  const config = loadConfig();
  exitCode = await runCli(
    {
      io,
      settings: {
        home: config.home,
        defaultUrl: `${config.server.tls ? 'https' : 'http'}://${config.server.host === '0.0.0.0' ? '127.0.0.1' : config.server.host}:${String(config.server.port)}`,
        url: config.cli.url,
        apiKey: config.cli.apiKey,
        profile: config.cli.profile,
      },
      launcher: createLauncher(config, waitForStop),
      fetch: undefined,
    },
    VERSION,
    process.argv.slice(2),
  );
} catch (error) {
  io.err(`error: ${errorMessage(error)}`);
  exitCode = 2;
}
process.exitCode = exitCode;
