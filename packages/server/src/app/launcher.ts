import type { InitOutcome, PlatformLauncher } from '../cli/index.js';
import { ensureMasterKeyFile } from '../infra/keys/index.js';
import type { Config } from './config.js';
import { createApp } from './create-app.js';
import { runDoctor } from './doctor.js';
import { initializePlatform } from './initialize.js';

/** The local platform operations behind `aether init|serve|start|doctor`. */
export function createLauncher(config: Config, waitForStop: () => Promise<string>): PlatformLauncher {
  return {
    async init(): Promise<InitOutcome> {
      if (!config.security.masterKey) await ensureMasterKeyFile(config.security.masterKeyFile);
      const app = await createApp(config);
      try {
        const result = await initializePlatform(app);
        return { ...result, home: config.home };
      } finally {
        await app.close();
      }
    },
    async serve(options, onListening) {
      const app = await createApp({ ...config, server: { ...config.server, roles: options.roles as Config['server']['roles'] } });
      try {
        onListening(await app.listen());
        const signal = await waitForStop();
        app.logger.info('server.stopping', { signal });
        const grace = setTimeout(() => {
          app.logger.error('server.shutdown_timed_out', { grace_ms: config.server.shutdownGraceMs });
          process.exit(1);
        }, config.server.shutdownGraceMs);
        grace.unref();
      } finally {
        await app.close();
      }
    },
    doctor: () => runDoctor(config),
  };
}
