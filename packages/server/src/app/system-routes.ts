import { systemRoutes as contracts } from '@aether/protocol';

import type { Database } from '../infra/database/index.js';
import { defineHandler, type RouteDefinition } from '../shared/http/index.js';
import type { Clock } from '../shared/ports/index.js';
import type { ServerRole } from './config.js';
import { VERSION } from './version.js';

export interface SystemRoutesDeps {
  readonly db: Database;
  readonly clock: Clock;
  readonly startedAt: Date;
  readonly redis: boolean;
  readonly nats: boolean;
  readonly roles: readonly ServerRole[];
}

/** `GET /v1/status`: what this server is and what it runs on. */
export function systemRoutes(deps: SystemRoutesDeps): RouteDefinition[] {
  return [
    defineHandler(contracts.getStatus, { kind: 'authenticated' }, async () => ({
      version: VERSION,
      node_version: process.versions.node,
      uptime_seconds: Math.round((deps.clock.nowMs() - deps.startedAt.getTime()) / 1000),
      database: deps.db.engine,
      redis: deps.redis,
      nats: deps.nats,
      roles: [...deps.roles],
    })),
  ];
}
