import type { Quotas, Role } from '@aether/protocol';

export type TenantRow = {
  id: string;
  slug: string;
  name: string;
  status: 'active' | 'suspended';
  quotas: Quotas;
  created_at: Date;
  updated_at: Date;
};

export type UserRow = {
  id: string;
  tenant_id: string;
  email: string;
  display_name: string;
  role: Role;
  status: 'active' | 'disabled';
  password_hash: string;
  created_at: Date;
  updated_at: Date;
};

export type SecretRow = {
  tenant_id: string;
  name: string;
  description: string;
  ciphertext: Buffer;
  created_at: Date;
  updated_at: Date;
};

export type TenancyTables = {
  tenants: TenantRow;
  users: UserRow;
  secrets: SecretRow;
};
