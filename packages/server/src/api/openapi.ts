import { errorEnvelopeSchema, type RouteContract } from '@aether/protocol';
import { z } from 'zod';

import type { RouteDefinition } from '../shared/http/index.js';
import { STATUS_BY_KIND } from './error-response.js';

type JsonSchema = Record<string, unknown>;

function toSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  delete json['$schema'];
  return json;
}

function parametersOf(schema: z.ZodType | undefined, location: 'path' | 'query'): JsonSchema[] {
  if (!schema) return [];
  const json = toSchema(schema, 'input');
  const properties = (json['properties'] ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json['required'] ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: location,
    required: location === 'path' || required.has(name),
    schema: property,
  }));
}

const errorStatuses = [...new Set(Object.values(STATUS_BY_KIND))].sort();

function operationOf(name: string, contract: RouteContract, definition: RouteDefinition): JsonSchema {
  const responses: Record<string, JsonSchema> = {
    [String(contract.successStatus ?? 200)]: {
      description: 'Success',
      content: { 'application/json': { schema: toSchema(contract.response, 'output') } },
    },
  };
  for (const status of errorStatuses) {
    responses[String(status)] = { $ref: '#/components/responses/Error' };
  }
  const access = definition.access;
  const accessNote =
    access.kind === 'public' ? 'No credentials needed.'
      : access.kind === 'operator' ? 'Platform operator only.'
        : access.kind === 'authenticated' ? 'Any authenticated caller.'
          : `Needs permission \`${access.permission}\`.`;
  return {
    operationId: name,
    summary: contract.summary,
    description: accessNote,
    tags: [contract.tag],
    parameters: [...parametersOf(contract.params, 'path'), ...parametersOf(contract.query, 'query')],
    ...(contract.body
      ? {
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: toSchema(contract.body, 'input'),
                ...(contract.exampleBody === undefined ? {} : { example: contract.exampleBody }),
              },
            },
          },
        }
      : {}),
    responses,
    ...(access.kind === 'public' ? { security: [] } : {}),
  };
}

/** The OpenAPI 3.1 document of every mounted route, generated from the protocol's zod schemas. */
export function buildOpenApiDocument(
  routes: readonly { name: string; definition: RouteDefinition }[],
  info: { version: string; serverUrl?: string | undefined },
): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const { name, definition } of routes) {
    const contract = definition.contract;
    paths[contract.path] ??= {};
    const pathItem = paths[contract.path] ?? {};
    pathItem[contract.method.toLowerCase()] = operationOf(name, contract, definition);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Aether API',
      version: info.version,
      description:
        'Aether is a self-hosted, multi-tenant operating system for AI agents. Authenticate with ' +
        '`Authorization: Bearer <key or token>`: a tenant API key (`ak_…`), an operator key (`aop_…`) or an ' +
        'access token from `POST /v1/tokens`. Errors are `{ "error": { "code", "message", "details", "request_id" } }`; switch on `code`.',
    },
    ...(info.serverUrl ? { servers: [{ url: info.serverUrl }] } : {}),
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      responses: {
        Error: {
          description: 'An error, with a stable code',
          content: { 'application/json': { schema: toSchema(errorEnvelopeSchema, 'output') } },
        },
      },
    },
  };
}
