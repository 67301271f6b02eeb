import type { Role, User } from '@aether/protocol';

import type { AuditSink } from '../../infra/audit/index.js';
import { isUniqueViolation, type Database, type DbTransaction } from '../../infra/database/index.js';
import type { TenantContext, TenantId } from '../../shared/context/index.js';
import { NotFoundError } from '../../shared/errors/index.js';
import type { IdGenerator } from '../../shared/ids/index.js';
import type { Clock } from '../../shared/ports/index.js';
import { LastOwnerError, UserEmailTakenError } from './errors.js';
import { DEFAULT_PAGE_SIZE, toPage } from './pagination.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { enforceQuota } from './quota-enforcer.js';
import type { TenancyTables, UserRow } from './tables.js';

export interface UserServiceDeps {
  readonly db: Database;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly audit: AuditSink;
}

export interface CreateUserInput {
  readonly email: string;
  readonly display_name: string;
  readonly role: Role;
  readonly password: string;
}

export interface UpdateUserInput {
  readonly display_name?: string | undefined;
  readonly role?: Role | undefined;
  readonly status?: 'active' | 'disabled' | undefined;
  readonly password?: string | undefined;
}

function userToWire(row: UserRow): User {
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    email: row.email,
    display_name: row.display_name,
    role: row.role,
    status: row.status,
    created_at: row.created_at.toISOString(),
  };
}

/** The people of a tenant, their roles and their passwords (scrypt). */
export class UserService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #ids: IdGenerator;
  readonly #audit: AuditSink;

  constructor(deps: UserServiceDeps) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#ids = deps.ids;
    this.#audit = deps.audit;
  }

  /**
   * Adds a user, within the tenant's `max_users` quota.
   * @throws {UserEmailTakenError} when the email is in use in this tenant.
   * @throws {QuotaExceededError} at the quota.
   */
  async create(ctx: TenantContext, input: CreateUserInput): Promise<User> {
    const passwordHash = await hashPassword(input.password);
    const now = this.#clock.now();
    const row: UserRow = {
      id: this.#ids.next('usr'),
      tenant_id: ctx.tenantId,
      email: input.email,
      display_name: input.display_name,
      role: input.role,
      status: 'active',
      password_hash: passwordHash,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.#db.withTenant(ctx.tenantId, async (tx) => {
        const tables = tx.$extendTables<TenancyTables>();
        await enforceQuota(tx, {
          tenantId: ctx.tenantId,
          quota: 'max_users',
          current: async () => (await tables.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow()).count,
        });
        await tables.insertInto('users').values(row).execute();
        await this.#audit.append(ctx, { kind: 'user.created', subject: { user_id: row.id }, payload: { role: row.role, email: row.email }, personal: { subjectId: row.id, fields: ['email'] } }, { tx });
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new UserEmailTakenError(input.email);
      throw error;
    }
    return userToWire(row);
  }

  async list(ctx: TenantContext, page: { cursor?: string | undefined; limit?: number | undefined }): Promise<{ items: User[]; next_cursor: string | null }> {
    const limit = page.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.#db.withTenant(ctx.tenantId, (tx) => {
      let query = tx.$extendTables<TenancyTables>().selectFrom('users').selectAll().orderBy('id').limit(limit + 1);
      if (page.cursor) query = query.where('id', '>', page.cursor);
      return query.execute();
    });
    return toPage(rows, limit, userToWire);
  }

  /** @throws {NotFoundError} when the user is not in the caller's tenant. */
  async get(ctx: TenantContext, userId: string): Promise<User> {
    const row = await this.#db.withTenant(ctx.tenantId, (tx) =>
      tx.$extendTables<TenancyTables>().selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst(),
    );
    if (!row) throw new NotFoundError('user', userId);
    return userToWire(row);
  }

  /**
   * Changes a user. The tenant always keeps one active Owner.
   * @throws {NotFoundError} when the user is not in the caller's tenant.
   * @throws {LastOwnerError} when the change would remove the last active Owner.
   */
  async update(ctx: TenantContext, userId: string, input: UpdateUserInput): Promise<User> {
    const passwordHash = input.password === undefined ? undefined : await hashPassword(input.password);
    const row = await this.#db.withTenant(ctx.tenantId, async (tx) => {
      const tables = tx.$extendTables<TenancyTables>();
      await tables.selectFrom('tenants').select('id').where('id', '=', ctx.tenantId).forUpdate().execute();
      const current = await tables.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
      if (!current) throw new NotFoundError('user', userId);
      const next: UserRow = {
        ...current,
        display_name: input.display_name ?? current.display_name,
        role: input.role ?? current.role,
        status: input.status ?? current.status,
        password_hash: passwordHash ?? current.password_hash,
        updated_at: this.#clock.now(),
      };
      const losesOwner = current.role === 'owner' && current.status === 'active' && (next.role !== 'owner' || next.status !== 'active');
      if (losesOwner && (await this.#activeOwnerCount(tx)) <= 1) throw new LastOwnerError();
      await tables.updateTable('users').set(next).where('id', '=', userId).execute();
      const changed = Object.keys(input).filter((key) => key !== 'password');
      await this.#audit.append(ctx, {
        kind: 'user.updated',
        subject: { user_id: userId },
        payload: { changed: input.password === undefined ? changed : [...changed, 'password'], role: next.role, status: next.status },
      }, { tx });
      return next;
    });
    return userToWire(row);
  }

  /**
   * Checks an email and password within a tenant. Returns the active user, or undefined for a
   * wrong email, a wrong password or a disabled user alike (no user enumeration).
   */
  async authenticate(tenantId: TenantId, email: string, password: string): Promise<User | undefined> {
    const row = await this.#db.withTenant(tenantId, (tx) =>
      tx.$extendTables<TenancyTables>().selectFrom('users').selectAll().where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase())).executeTakeFirst(),
    );
    if (!row) {
      // Spend the same time as a real check, so timing does not reveal which emails exist.
      await verifyPassword(password, DUMMY_HASH);
      return undefined;
    }
    const ok = await verifyPassword(password, row.password_hash);
    return ok && row.status === 'active' ? userToWire(row) : undefined;
  }

  /** The user's current role and status, for token checks; undefined when gone. */
  async status(tenantId: TenantId, userId: string): Promise<{ role: Role; status: 'active' | 'disabled' } | undefined> {
    return this.#db.withTenant(tenantId, (tx) =>
      tx.$extendTables<TenancyTables>().selectFrom('users').select(['role', 'status']).where('id', '=', userId).executeTakeFirst(),
    );
  }

  async #activeOwnerCount(tx: DbTransaction): Promise<number> {
    const { count } = await tx
      .$extendTables<TenancyTables>()
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('role', '=', 'owner')
      .where('status', '=', 'active')
      .executeTakeFirstOrThrow();
    return count;
  }
}

const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
