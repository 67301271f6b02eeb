/**
 * The layer rule and the index-only rule of ARCHITECTURE.md §1, enforced in CI.
 * Layers point down: shared <- infra <- hypervisor <- kernel <- runtime <- api, cli <- app <- main.
 * A module is a folder under a layer (kernel/ledger, infra/database ...); other modules import
 * only its index.ts (or its testing/index.ts, from tests).
 */
const SRC = '^packages/server/src';
const layer = (name) => `${SRC}/${name}/`;

const layerRules = [
  ['shared', ['infra', 'hypervisor', 'kernel', 'runtime', 'api', 'cli', 'app']],
  ['infra', ['hypervisor', 'kernel', 'runtime', 'api', 'cli', 'app']],
  ['hypervisor', ['kernel', 'runtime', 'api', 'cli', 'app']],
  ['kernel', ['runtime', 'api', 'cli', 'app']],
  ['runtime', ['api', 'cli', 'app']],
  ['api', ['cli', 'app']],
  ['cli', ['api', 'app']],
].map(([from, forbidden]) => ({
  name: `layer-${from}`,
  comment: `${from}/ may not import ${forbidden.join(', ')} (layers point down; reverse needs go through a port)`,
  severity: 'error',
  from: { path: layer(from) },
  to: { path: `${SRC}/(${forbidden.join('|')})/` },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'index-only',
      comment: 'Import another module only through its index.ts (or testing/index.ts)',
      severity: 'error',
      from: { path: `${SRC}/([^/]+)/([^/]+)/` },
      to: {
        path: `${SRC}/([^/]+)/([^/]+)/.+`,
        pathNot: [`${SRC}/$1/$2/`, `${SRC}/[^/]+/[^/]+/index\\.ts$`, `${SRC}/[^/]+/[^/]+/testing/index\\.ts$`],
      },
    },
    {
      name: 'index-only-from-layer-root',
      comment: 'Files directly in a layer folder (api/*.ts, app/*.ts) import other layers\' modules only through their index.ts',
      severity: 'error',
      from: { path: `${SRC}/([^/]+)/[^/]+\\.ts$` },
      to: {
        path: `${SRC}/([^/]+)/([^/]+)/.+`,
        pathNot: [`${SRC}/$1/`, `${SRC}/[^/]+/[^/]+/index\\.ts$`, `${SRC}/[^/]+/[^/]+/testing/index\\.ts$`],
      },
    },
    {
      name: 'protocol-depends-on-zod-only',
      severity: 'error',
      from: { path: '^packages/protocol/src' },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer'], pathNot: 'node_modules/zod' },
    },
    {
      name: 'dashboard-imports-protocol-only',
      severity: 'error',
      from: { path: '^packages/dashboard/src' },
      to: { path: '^packages/server' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'packages/server/tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
